/**
 * A connection URL fit for logs and status output: the password of its user info becomes `***`.
 * Parsed by hand, not with `new URL`, which refuses what drivers accept (MongoDB's `h1,h2` host
 * lists, raw `:` or `@` in a password): the user info runs from `//` to the LAST `@`, and the user
 * name ends at the FIRST `:` (a user name cannot contain one). A URL without a password is returned
 * as it is; text that is not a URL with user info is returned unchanged.
 */
export function maskUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (!scheme) return url;
  const rest = url.slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  if (at < 0) return url;
  const userInfo = rest.slice(0, at);
  const colon = userInfo.indexOf(':');
  if (colon < 0) return url;
  return `${scheme[0]}${userInfo.slice(0, colon)}:***${rest.slice(at)}`;
}
