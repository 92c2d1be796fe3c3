import { describe, expect, it } from "vitest";
import { ApiError, UnexpectedResponseError } from "@generated/http";
import {
  describeError,
  nextOffset,
  offsetAfterDelete,
  pageQuery,
  parseTelegramId,
  previousOffset,
  toPage,
} from "./users";

describe("pagination", () => {
  it("asks for one user more than a page shows, to learn whether a next page exists", () => {
    expect(pageQuery(20, 10)).toEqual({ limit: 11, offset: 20 });
    expect(pageQuery(-5, 10)).toEqual({ limit: 11, offset: 0 });
  });

  it("shows a full page with a next page only when the extra user came back", () => {
    const full = toPage(0, [1, 2, 3], 2);
    expect(full).toEqual({ offset: 0, items: [1, 2], hasPrevious: false, hasNext: true });
    const last = toPage(2, [3, 4], 2);
    expect(last).toEqual({ offset: 2, items: [3, 4], hasPrevious: true, hasNext: false });
  });

  it("moves by whole pages and never before the first user", () => {
    const page = toPage(3, [4, 5], 10);
    expect(previousOffset(page, 10)).toBe(0);
    expect(nextOffset(page, 10)).toBe(13);
  });

  it("steps back a page after deleting the only user of a later page", () => {
    expect(offsetAfterDelete(toPage(10, [11], 10), 10)).toBe(0);
    expect(offsetAfterDelete(toPage(10, [11, 12], 10), 10)).toBe(10);
    expect(offsetAfterDelete(toPage(0, [1], 10), 10)).toBe(0);
  });
});

describe("the Telegram id field", () => {
  it("takes whole numbers from 0 up, around spaces", () => {
    expect(parseTelegramId(" 42 ")).toEqual({ ok: true, value: 42 });
    expect(parseTelegramId("0")).toEqual({ ok: true, value: 0 });
  });

  it.each(["", "  ", "-1", "4.5", "1e3", "abc", "12abc"])("refuses %j with a reason", (text) => {
    const parsed = parseTelegramId(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/Telegram id/);
  });

  it("refuses numbers JavaScript cannot hold exactly", () => {
    expect(parseTelegramId("9007199254740993")).toEqual({
      ok: false,
      error: "That Telegram id is too large.",
    });
  });
});

describe("error messages", () => {
  it("names a declared failure's status and the service's own words", () => {
    const conflict = new ApiError("create_user", 409, "telegram_id 5 is taken", {
      detail: "telegram_id 5 is taken",
    });
    expect(describeError(conflict)).toBe("Conflict (409): telegram_id 5 is taken");
  });

  it("tells a missing answer from an unexpected one", () => {
    expect(
      describeError(new UnexpectedResponseError("list_users", null, "TypeError: Failed to fetch")),
    ).toBe("The backend did not answer: TypeError: Failed to fetch");
    expect(describeError(new UnexpectedResponseError("list_users", 502, "Bad Gateway"))).toBe(
      "The backend answered 502: Bad Gateway",
    );
  });
});
