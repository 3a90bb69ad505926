/**
 * The gateway token, when the gateway requires one. It arrives once in the URL fragment
 * (`/#token=…`, never sent to the server or its logs), or is typed into the prompt, and is kept
 * for the browser tab only (sessionStorage).
 */
const KEY = 'tributary.gateway.token';

export function readToken(): string | undefined {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    saveToken(decodeURIComponent(match[1]!));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}
