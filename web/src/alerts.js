// The alerts panel: every firing or pending alert, firing first.

import { el, setText } from "./dom.js";
import { formatDateTime, formatValue, parseTime, unitOfMetric } from "./format.js";

const SHOWN_STATES = ["firing", "pending"];

// alertsFromResponse reads a /api/v1/alerts response and keeps the firing and
// pending alerts, firing first, then the longest-standing first.
export function alertsFromResponse(body) {
  const list = body && Array.isArray(body.alerts) ? body.alerts : [];
  return list
    .filter((a) => a && SHOWN_STATES.includes(a.state))
    .map((a) => ({ ...a, sinceDate: parseTime(a.since) }))
    .sort((a, b) => {
      const byState = SHOWN_STATES.indexOf(a.state) - SHOWN_STATES.indexOf(b.state);
      if (byState !== 0) {
        return byState;
      }
      return (a.sinceDate ? a.sinceDate.getTime() : 0) - (b.sinceDate ? b.sinceDate.getTime() : 0);
    });
}

// describeLabels writes {"mount": "/data"} as "mount=/data".
function describeLabels(labels) {
  if (!labels || typeof labels !== "object") {
    return "";
  }
  return Object.keys(labels)
    .sort()
    .map((key) => key + "=" + labels[key])
    .join(", ");
}

// describeCondition writes "value 95.2% > 90.0% for 5m".
function describeCondition(alert) {
  const unit = unitOfMetric(alert.name);
  const op = alert.rule && typeof alert.rule.op === "string" ? alert.rule.op : "vs";
  let text = "value " + formatValue(unit, alert.value) + " " + op + " " + formatValue(unit, alert.threshold);
  if (alert.for) {
    text += " for " + alert.for;
  }
  return text;
}

// AlertPanel renders the alerts into a list and keeps the heading count.
export class AlertPanel {
  constructor(listElement, countElement, onSelectHost) {
    this.list = listElement;
    this.count = countElement;
    this.onSelectHost = onSelectHost;
  }

  update(alerts) {
    setText(this.count, String(alerts.length));
    if (alerts.length === 0) {
      this.list.replaceChildren(el("li", { class: "alert-empty", text: "No alert is firing or pending." }));
      return;
    }
    this.list.replaceChildren(...alerts.map((alert) => this.item(alert)));
  }

  item(alert) {
    const labels = describeLabels(alert.labels);
    const hostButton = el("button", { type: "button", class: "link-button", onclick: () => this.onSelectHost(alert.host), text: alert.host });
    return el(
      "li",
      { class: "alert-item alert-" + alert.state, dataset: { alertId: String(alert.id ?? ""), state: alert.state } },
      el("span", { class: "alert-state", text: alert.state }),
      el(
        "span",
        { class: "alert-body" },
        el("strong", { class: "alert-name", text: alert.name + (labels ? " {" + labels + "}" : "") }),
        " on ",
        hostButton,
        el("span", { class: "alert-condition", text: describeCondition(alert) }),
        alert.sinceDate ? el("span", { class: "alert-since" }, "since ", el("time", { datetime: alert.sinceDate.toISOString(), text: formatDateTime(alert.sinceDate) })) : null,
      ),
    );
  }
}
