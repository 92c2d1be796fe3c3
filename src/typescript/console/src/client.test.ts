// The generated users client against a recorded fetch: what it sends and how it reads answers.
import { describe, expect, it } from "vitest";
import { BackendUsersClient, type BackendUsersClientError } from "@generated/console/clients";
import { ApiError, UnexpectedResponseError, isApiError } from "@generated/http";

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function answering(status: number, body?: unknown, token?: string) {
  const sent: Sent[] = [];
  const fetch = async (url: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    sent.push({
      url: String(url),
      method: init?.method ?? "GET",
      headers: init?.headers as Record<string, string>,
      body: init?.body as string | undefined,
    });
    const text = body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body);
    return new Response(text, { status });
  };
  const client = new BackendUsersClient({ baseUrl: "/backend/", fetch, token: () => token });
  return { client, sent };
}

const USER = {
  id: 7,
  telegram_id: 42,
  is_admin: false,
  created_at: "2026-11-29T21:00:00Z",
  updated_at: "2026-11-29T21:00:00Z",
};

describe("requests", () => {
  it("puts query parameters in the URL and leaves out the ones not given", async () => {
    const { client, sent } = answering(200, [USER]);
    expect(await client.listUsers({ limit: 11 })).toEqual([USER]);
    expect(sent[0]?.url).toBe("/backend/users?limit=11");
    expect(sent[0]?.headers["Authorization"]).toBeUndefined();
  });

  it("encodes path parameters and sends the body as JSON with the bearer token", async () => {
    const { client, sent } = answering(200, USER, "t0ken");
    await client.updateUser({ user_id: 7 }, { is_admin: true });
    expect(sent[0]).toMatchObject({
      url: "/backend/users/7",
      method: "PUT",
      body: '{"is_admin":true}',
      headers: { Authorization: "Bearer t0ken", "Content-Type": "application/json" },
    });
  });

  it("resolves to nothing on 204", async () => {
    const { client } = answering(204);
    await expect(client.deleteUser({ user_id: 7 })).resolves.toBeUndefined();
  });
});

describe("failures", () => {
  it("rejects with a typed ApiError for a declared status, with the service's detail", async () => {
    const { client } = answering(409, { detail: "telegram_id 42 is taken" });
    const error: unknown = await client.createUser({ telegram_id: 42 }).catch((e: unknown) => e);
    expect(isApiError(error, BackendUsersClient.errors.createUser)).toBe(true);
    const conflict = error as BackendUsersClientError<"createUser">;
    expect(conflict.status).toBe(409);
    expect(conflict.detail).toBe("telegram_id 42 is taken");
  });

  it("reads the services' validation errors into one line", async () => {
    const body = {
      detail: "the request is invalid",
      errors: [{ loc: ["body", "telegram_id"], msg: "Input should be a valid integer", type: "x" }],
    };
    const { client } = answering(422, body);
    await expect(client.createUser({ telegram_id: 1 })).rejects.toMatchObject({
      status: 422,
      detail: "the request is invalid: telegram_id: Input should be a valid integer",
    });
  });

  it("reads FastAPI's own validation list into one line", async () => {
    const body = {
      detail: [
        {
          loc: ["body", "telegram_id"],
          msg: "Input should be greater than or equal to 0",
          type: "x",
        },
      ],
    };
    const { client } = answering(422, body);
    await expect(client.createUser({ telegram_id: -1 })).rejects.toMatchObject({
      status: 422,
      detail: "telegram_id: Input should be greater than or equal to 0",
    });
  });

  it("calls a status the operation does not declare unexpected, not an ApiError", async () => {
    const { client } = answering(500, "Internal Server Error");
    const error = await client.listUsers().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnexpectedResponseError);
    expect(error).not.toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 500, detail: "Internal Server Error" });
  });

  it("reports no answer at all as status null", async () => {
    const fetch = async (): Promise<Response> => {
      throw new TypeError("Failed to fetch");
    };
    const client = new BackendUsersClient({ baseUrl: "/backend", fetch });
    await expect(client.listUsers()).rejects.toMatchObject({
      status: null,
      detail: "TypeError: Failed to fetch",
    });
  });

  it("refuses a success answer that is not JSON", async () => {
    const { client } = answering(200, "<html>proxy error page</html>");
    await expect(client.listUsers()).rejects.toBeInstanceOf(UnexpectedResponseError);
  });
});
