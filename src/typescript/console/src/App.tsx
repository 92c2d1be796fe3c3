import { useCallback, useEffect, useState, type FormEvent } from "react";
import type { BackendUsersClient } from "@generated/console/clients";
import type { UserRead } from "@generated/models";
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

export function App({ client }: { client: BackendUsersClient }) {
  const [page, setPage] = useState<Page<UserRead> | null>(null);
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    async (at: number) => {
      try {
        setPage(toPage(at, await client.listUsers(pageQuery(at))));
        setError(null);
      } catch (failure) {
        setError(describeError(failure));
      }
    },
    [client],
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
      setError(describeError(failure));
      return false;
    } finally {
      setBusy(false);
    }
  }

  return (
    <main>
      <h1>Users</h1>
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
