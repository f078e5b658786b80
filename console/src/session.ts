/** The admin token lives in this tab's sessionStorage only: never in a URL, gone when the tab closes. */
const TOKEN_KEY = "inlet.adminToken";

export function readToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}
