import { useCallback, useEffect, useState, type FormEvent } from "react";
import type { BackendUsersClient } from "@generated/console/clients";
import type { UserRead } from "@generated/models";
import { ApiError } from "@generated/http";
import { looksLikeToken, type Session } from "./session";
import {
  describeError,
  nextOffset,
  offsetAfterDelete,
  pageQuery,
  parseTelegramId,
  previousOffset,
  toPage,
  type Page,
} from "./users";

export function App({ client, session }: { client: BackendUsersClient; session: Session }) {
  const [signedIn, setSignedIn] = useState(session.token() !== null);
  const [refused, setRefused] = useState<string | null>(null);

  // A 401 means the token expired or was never valid: back to signing in, saying why.
  const signOut = useCallback(
    (reason: string | null) => {
      session.signOut();
      setRefused(reason);
      setSignedIn(false);
    },
    [session],
  );

  if (!signedIn)
    return (
      <SignIn
        refused={refused}
        onSignIn={(token) => {
          session.signIn(token);
          setRefused(null);
          setSignedIn(true);
        }}
      />
    );
  return <Users client={client} onSignOut={signOut} />;
}

function SignIn(props: { refused: string | null; onSignIn: (token: string) => void }) {
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!looksLikeToken(token)) {
      setProblem("That is not an access token: paste the whole token the mint command printed.");
      return;
    }
    props.onSignIn(token);
  }

  return (
    <main>
      <h1>Sign in</h1>
      {props.refused && (
        <p role="alert" className="error">
          {props.refused}
        </p>
      )}
      <p>
        Paste an access token, e.g. from{" "}
        <code>pants run src/python/servicekit/auth:mint -- admin --audience backend</code>.
      </p>
      <form onSubmit={submit} aria-label="Sign in">
        <label>
          Access token
          <input
            name="token"
            type="password"
            autoComplete="off"
            value={token}
            onChange={(event) => setToken(event.target.value)}
            aria-invalid={problem !== null}
          />
        </label>
        <button type="submit">Sign in</button>
        {problem && <span className="field-error">{problem}</span>}
      </form>
    </main>
  );
}

function Users({
  client,
  onSignOut,
}: {
  client: BackendUsersClient;
  onSignOut: (reason: string | null) => void;
}) {
  const [page, setPage] = useState<Page<UserRead> | null>(null);
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // A refused token ends the session; any other failure is shown above the page.
  const fail = useCallback(
    (failure: unknown) => {
      if (failure instanceof ApiError && failure.status === 401)
        onSignOut(`The backend refused the token: ${failure.detail}. Sign in again.`);
      else setError(describeError(failure));
    },
    [onSignOut],
  );

  const load = useCallback(
    async (at: number) => {
      try {
        setPage(toPage(at, await client.listUsers(pageQuery(at))));
        setError(null);
      } catch (failure) {
        fail(failure);
      }
    },
    [client, fail],
  );

  useEffect(() => {
    void load(offset);
  }, [load, offset]);

  // Runs one change, then shows the current page again (or the error, keeping the page shown).
  async function change(action: () => Promise<unknown>, nextOffset = offset): Promise<boolean> {
    setBusy(true);
    try {
      await action();
      setError(null);
      if (nextOffset === offset) await load(offset);
      else setOffset(nextOffset);
      return true;
    } catch (failure) {
      fail(failure);
      return false;
    } finally {
      setBusy(false);
    }
  }

  return (
    <main>
      <header>
        <h1>Users</h1>
        <button type="button" onClick={() => onSignOut(null)}>
          Sign out
        </button>
      </header>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <CreateUserForm
        busy={busy}
        onCreate={(telegramId, isAdmin) =>
          change(() => client.createUser({ telegram_id: telegramId, is_admin: isAdmin }))
        }
      />
      {page === null ? (
        <p>Loading…</p>
      ) : (
        <UserTable
          page={page}
          busy={busy}
          onToggleAdmin={(user) =>
            change(() => client.updateUser({ user_id: user.id }, { is_admin: !user.is_admin }))
          }
          onDelete={(user) =>
            change(() => client.deleteUser({ user_id: user.id }), offsetAfterDelete(page))
          }
          onPage={setOffset}
        />
      )}
    </main>
  );
}

function CreateUserForm(props: {
  busy: boolean;
  onCreate: (telegramId: number, isAdmin: boolean) => Promise<boolean>;
}) {
  const [telegramId, setTelegramId] = useState("");
  const [isAdmin, setIsAdmin] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const parsed = parseTelegramId(telegramId);
    if (!parsed.ok) {
      setProblem(parsed.error);
      return;
    }
    setProblem(null);
    if (await props.onCreate(parsed.value, isAdmin)) {
      setTelegramId("");
      setIsAdmin(false);
    }
  }

  return (
    <form onSubmit={submit} aria-label="Create user">
      <label>
        Telegram id
        <input
          name="telegram_id"
          inputMode="numeric"
          value={telegramId}
          onChange={(event) => setTelegramId(event.target.value)}
          aria-invalid={problem !== null}
        />
      </label>
      <label>
        <input
          type="checkbox"
          name="is_admin"
          checked={isAdmin}
          onChange={(event) => setIsAdmin(event.target.checked)}
        />
        Admin
      </label>
      <button type="submit" disabled={props.busy}>
        Create
      </button>
      {problem && <span className="field-error">{problem}</span>}
    </form>
  );
}

function UserTable(props: {
  page: Page<UserRead>;
  busy: boolean;
  onToggleAdmin: (user: UserRead) => void;
  onDelete: (user: UserRead) => void;
  onPage: (offset: number) => void;
}) {
  const { page, busy } = props;
  return (
    <section aria-label="Users">
      {page.items.length === 0 ? (
        <p>No users{page.offset > 0 ? " on this page" : " yet"}.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Id</th>
              <th>Telegram id</th>
              <th>Admin</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {page.items.map((user) => (
              <tr key={user.id} data-telegram-id={user.telegram_id}>
                <td>{user.id}</td>
                <td>{user.telegram_id}</td>
                <td>{user.is_admin ? "yes" : "no"}</td>
                <td>{new Date(user.created_at).toLocaleString()}</td>
                <td>
                  <button type="button" disabled={busy} onClick={() => props.onToggleAdmin(user)}>
                    {user.is_admin ? "Revoke admin" : "Make admin"}
                  </button>
                  <button type="button" disabled={busy} onClick={() => props.onDelete(user)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav aria-label="Pages">
        <button
          type="button"
          disabled={!page.hasPrevious}
          onClick={() => props.onPage(previousOffset(page))}
        >
          Previous
        </button>
        <span>
          {page.items.length > 0
            ? `${page.offset + 1}–${page.offset + page.items.length}`
            : `from ${page.offset + 1}`}
        </span>
        <button
          type="button"
          disabled={!page.hasNext}
          onClick={() => props.onPage(nextOffset(page))}
        >
          Next
        </button>
      </nav>
    </section>
  );
}
