// ECR authorizationToken (base64 "user:password") → username and password.

import { UpstreamError } from "./errors.ts";

/**
 * Decode an ECR authorization token. Splits at the first `:` only: the password may contain
 * colons. Throws UpstreamError (never quoting the token) when it is not base64 of `user:password`.
 */
export function decodeAuthorizationToken(token: string): { username: string; password: string } {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token) || token.length % 4 !== 0) {
    throw new UpstreamError("bad_token", "ECR returned an authorization token that is not base64");
  }
  const decoded = Buffer.from(token, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0 || colon === decoded.length - 1) {
    throw new UpstreamError("bad_token", "ECR returned an authorization token that is not user:password");
  }
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
