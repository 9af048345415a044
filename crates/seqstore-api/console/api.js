// Signed calls to the omics API of the server that served the console, and the keys of
// this browser tab (sessionStorage: gone when the tab closes, never in localStorage).

import { canonicalQuery, sha256Hex, sign, uriEncode } from "./sigv4.js";

const SESSION_KEY = "seqstore-console-keys";

/** An error answer of the API (type as in x-amzn-ErrorType), or a network failure. */
export class ApiError extends Error {
  constructor(type, message, status) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

export const session = {
  load() {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? JSON.parse(raw) : null;
  },
  save(credentials) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(credentials));
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
  },
};

/** A path template whose interpolated values are encoded as one path segment each:
 *  p`/tags/${arn}` gives /tags/arn%3Aaws%3A... */
export function p(strings, ...values) {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? uriEncode(String(values[i])) : ""), "");
}

function errorFrom(status, typeHeader, text) {
  let message = text;
  try {
    const body = JSON.parse(text);
    message = body.message ?? body.Message ?? text;
  } catch {
    // not JSON: show the text as it came
  }
  const type = (typeHeader || "").split(":")[0].split("#").pop() || `HTTP ${status}`;
  return new ApiError(type, message || "(no message)", status);
}

async function signedHeaders(credentials, method, path, query, payloadHash) {
  if (!globalThis.crypto?.subtle) {
    throw new ApiError("InsecureContext",
      "this browser offers no WebCrypto here: open the console over https, or over http on " +
      "127.0.0.1 or localhost (an SSH tunnel works)", 0);
  }
  return sign({ method, host: location.host, path, query, payloadHash, credentials,
    region: credentials.region });
}

function url(path, query) {
  const qs = canonicalQuery(query);
  return qs ? `${path}?${qs}` : path;
}

async function send(credentials, method, path, query, body) {
  const text = body === undefined ? "" : JSON.stringify(body);
  const headers = await signedHeaders(credentials, method, path, query, await sha256Hex(text));
  if (body !== undefined) {
    headers["content-type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(url(path, query), {
      method, headers, body: body === undefined ? undefined : text,
      credentials: "omit", cache: "no-store", redirect: "error",
    });
  } catch (e) {
    throw new ApiError("NetworkError", `cannot reach the server: ${e.message}`, 0);
  }
  if (!response.ok) {
    throw errorFrom(response.status, response.headers.get("x-amzn-ErrorType"), await response.text());
  }
  return response;
}

/** One JSON operation: its parsed answer ({} when empty). */
export async function call(credentials, method, path, { query = [], body } = {}) {
  const response = await send(credentials, method, path, query, body);
  const text = await response.text();
  return text ? JSON.parse(text) : {};
}

/** One streamed part (GetReadSet, GetReference): its bytes. */
export async function bytes(credentials, path, query) {
  const response = await send(credentials, "GET", path, query, undefined);
  return response.arrayBuffer();
}

/** UploadReadSetPart with XMLHttpRequest, for its upload progress events. The body is
 *  UNSIGNED-PAYLOAD, as botocore sends it, so a 100 MiB part need not be hashed first. */
export async function putPart(credentials, path, query, blob, onProgress) {
  const headers = await signedHeaders(credentials, "PUT", path, query, "UNSIGNED-PAYLOAD");
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url(path, query));
    for (const [name, value] of Object.entries(headers)) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(blob.size);
        resolve(JSON.parse(xhr.responseText));
      } else {
        reject(errorFrom(xhr.status, xhr.getResponseHeader("x-amzn-ErrorType"), xhr.responseText));
      }
    };
    xhr.onerror = () => reject(new ApiError("NetworkError", "the part upload was interrupted", 0));
    xhr.send(blob);
  });
}

/** The region the server signs for, from its unauthenticated /console/config.json. */
export async function serverConfig() {
  try {
    const response = await fetch("config.json", { cache: "no-store", credentials: "omit" });
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}
