// The signed-in user's bearer token, kept for the browser tab only (sessionStorage): never in a
// cookie, so no other site can make the browser send it.
const KEY = "specfirst.token";

export interface Session {
  token: () => string | null;
  signIn: (token: string) => void;
  signOut: () => void;
}

export function tabSession(storage: Storage = window.sessionStorage): Session {
  return {
    token: () => storage.getItem(KEY),
    signIn: (token) => storage.setItem(KEY, token.trim()),
    signOut: () => storage.removeItem(KEY),
  };
}

// A JWT is three base64url parts; anything else is refused before it reaches the backend.
export function looksLikeToken(text: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text.trim());
}
