// A small element builder. Text always goes in through text nodes, never
// as HTML, so host names, labels and log messages cannot inject markup.

// el creates an element. attrs keys: "class", "text", "dataset" (object),
// "on<event>" (listener), boolean true/false attributes, anything else as a
// string attribute. Children are nodes or strings; null is skipped.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    setAttribute(node, key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function setAttribute(node, key, value) {
  if (value === null || value === undefined || value === false) {
    return;
  }
  if (key === "class") {
    node.className = value;
  } else if (key === "text") {
    node.textContent = value;
  } else if (key === "dataset") {
    Object.assign(node.dataset, value);
  } else if (key.startsWith("on") && typeof value === "function") {
    node.addEventListener(key.slice(2), value);
  } else if (value === true) {
    node.setAttribute(key, "");
  } else {
    node.setAttribute(key, String(value));
  }
}

// setText changes an element's text only when it differs, so screen readers
// do not announce unchanged live regions on every refresh.
export function setText(node, text) {
  if (node.textContent !== text) {
    node.textContent = text;
  }
}
