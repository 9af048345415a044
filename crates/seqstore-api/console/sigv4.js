// AWS Signature Version 4 for the omics service, computed in the browser with WebCrypto.
// crypto.subtle exists only in secure contexts: https pages, or http on 127.0.0.1/localhost.

const encoder = new TextEncoder();

/** Lowercase hex of bytes. */
export function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 of a string or bytes, as lowercase hex. */
export async function sha256Hex(data) {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

async function hmac(key, text) {
  const imported = await crypto.subtle.importKey(
    "raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", imported, encoder.encode(text));
}

/** SigV4 UriEncode: every UTF-8 byte outside A-Z a-z 0-9 - . _ ~ as %XX (and "/" too
 *  unless keepSlash). */
export function uriEncode(text, keepSlash = false) {
  let out = "";
  for (const byte of encoder.encode(text)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/")) {
      out += c;
    } else {
      out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
    }
  }
  return out;
}

/** The query string, both as sent and as signed: encoded pairs sorted by name, then value. */
export function canonicalQuery(pairs) {
  const encoded = pairs.map(([name, value]) => [uriEncode(name), uriEncode(String(value))]);
  encoded.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return encoded.map(([name, value]) => `${name}=${value}`).join("&");
}

/** 20240102T030405Z */
export function amzDate(now) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
}

/**
 * The headers that sign one request. `path` is the path as sent, its labels already
 * encoded once; like botocore for non-S3 services, the canonical URI encodes it again.
 * `payloadHash` is the body's SHA-256 hex, or "UNSIGNED-PAYLOAD". The browser sends Host
 * itself, so `host` is signed but not returned.
 */
export async function sign({ method, host, path, query, payloadHash, credentials, region,
  service = "omics", now = new Date() }) {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const headers = { host, "x-amz-content-sha256": payloadHash, "x-amz-date": date };
  if (credentials.sessionToken) {
    headers["x-amz-security-token"] = credentials.sessionToken;
  }
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n]).trim()}\n`).join("");
  const signedHeaders = names.join(";");
  const canonicalRequest = [method, uriEncode(path, true), canonicalQuery(query),
    canonicalHeaders, signedHeaders, payloadHash].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", date, scope, await sha256Hex(canonicalRequest)].join("\n");
  let key = encoder.encode("AWS4" + credentials.secretAccessKey);
  for (const part of [day, region, service, "aws4_request"]) {
    key = await hmac(key, part);
  }
  const signature = hex(await hmac(key, stringToSign));
  delete headers.host;
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
