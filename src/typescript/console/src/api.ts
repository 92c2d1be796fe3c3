// The backend's users client, as the console reaches it: under /backend on the same site, with
// the signed-in user's token on every request.
import { BackendUsersClient } from "@generated/console/clients";

export const BACKEND_BASE_URL = "/backend";

export function usersClient(
  token: () => string | null,
  baseUrl = BACKEND_BASE_URL,
): BackendUsersClient {
  return new BackendUsersClient({ baseUrl, token });
}
