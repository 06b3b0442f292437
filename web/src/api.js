// Calls to the MiniObserv read API. The browser sends the sign-in cookie
// with every same-origin request; a 401 means the session has ended.

const REQUEST_TIMEOUT_MS = 10000;

export const LOGIN_PATH = "/login";

// ApiError is a failed API call. retryable is true when trying again later
// may succeed (network error, timeout, 5xx, 429): the dashboard then keeps
// the old data and shows it as stale. Other 4xx responses are shown where the
// data would be.
export class ApiError extends Error {
  constructor(message, status, retryable) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.retryable = retryable;
  }
}

// SignedOutError is thrown after a 401 has sent the page to the sign-in
// form; callers stop what they were doing.
export class SignedOutError extends Error {
  constructor() {
    super("signed out");
    this.name = "SignedOutError";
  }
}

// isPageError reports whether err concerns the whole page (the server could
// not be reached, or the session has ended) rather than one panel's query.
export function isPageError(err) {
  return err instanceof SignedOutError || (err instanceof ApiError && err.retryable);
}

let redirecting = false;

// redirectToLogin leaves the dashboard for the sign-in page, once.
function redirectToLogin() {
  if (!redirecting) {
    redirecting = true;
    window.location.assign(LOGIN_PATH);
  }
}

// buildURL joins a path and query parameters, skipping empty values.
export function buildURL(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") {
      query.set(key, String(value));
    }
  }
  const text = query.toString();
  return text === "" ? path : path + "?" + text;
}

// errorMessage extracts the server's {"error": "..."} text from a failed
// response, or describes the status when the body is not that JSON.
async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && typeof body.error === "string" && body.error !== "") {
      return body.error;
    }
  } catch {
    // The body was not JSON, so the status line below describes the failure.
  }
  return "HTTP " + response.status + " " + response.statusText;
}

// getJSON fetches path with params and returns the decoded JSON body. It
// throws ApiError on failure and SignedOutError on 401.
export async function getJSON(path, params) {
  const url = buildURL(path, params);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);

  let response;
  try {
    response = await fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
      signal: controller.signal,
    });
  } catch (err) {
    const reason = err && err.name === "AbortError" ? "timed out after " + REQUEST_TIMEOUT_MS / 1000 + "s" : "network error";
    throw new ApiError(path + ": " + reason, 0, true);
  } finally {
    clearTimeout(timer);
  }

  if (response.status === 401) {
    redirectToLogin();
    throw new SignedOutError();
  }
  if (!response.ok) {
    const retryable = response.status >= 500 || response.status === 429;
    throw new ApiError(path + ": " + (await errorMessage(response)), response.status, retryable);
  }

  try {
    return await response.json();
  } catch {
    throw new ApiError(path + ": the response is not valid JSON", response.status, true);
  }
}

// Typed calls, one per endpoint the dashboard reads.

export function fetchHosts() {
  return getJSON("/api/v1/hosts");
}

export function fetchAlerts() {
  return getJSON("/api/v1/alerts");
}

export function fetchSeries(host, name) {
  return getJSON("/api/v1/series", { host, name });
}

// fetchMetric queries one metric. filter is an optional {key, value} label
// filter and groupBy an optional label key.
export function fetchMetric({ host, name, from, to, bucket, agg, filter, groupBy }) {
  const params = {
    host,
    name,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    bucket,
    agg,
    group_by: groupBy,
  };
  if (filter) {
    params["label." + filter.key] = filter.value;
  }
  return getJSON("/api/v1/metrics/query", params);
}

export function fetchLogs({ host, level, q, from, limit, cursor }) {
  return getJSON("/api/v1/logs/query", {
    host,
    level,
    q,
    from: from ? new Date(from).toISOString() : undefined,
    limit,
    cursor,
  });
}
