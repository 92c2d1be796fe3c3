// The console's logic, free of React and of the network: pagination, input checks, error text.
import { ApiError, UnexpectedResponseError } from "@generated/http";

export const PAGE_SIZE = 10;

/** One page of the user list. The API answers lists without a total, so the console asks for one
 * more user than it shows: if that one comes back, there is a next page. */
export interface Page<Item> {
  offset: number;
  items: Item[];
  hasPrevious: boolean;
  hasNext: boolean;
}

export function pageQuery(offset: number, pageSize = PAGE_SIZE): { limit: number; offset: number } {
  return { limit: pageSize + 1, offset: Math.max(0, offset) };
}

export function toPage<Item>(offset: number, fetched: Item[], pageSize = PAGE_SIZE): Page<Item> {
  return {
    offset,
    items: fetched.slice(0, pageSize),
    hasPrevious: offset > 0,
    hasNext: fetched.length > pageSize,
  };
}

export function previousOffset(page: Page<unknown>, pageSize = PAGE_SIZE): number {
  return Math.max(0, page.offset - pageSize);
}

export function nextOffset(page: Page<unknown>, pageSize = PAGE_SIZE): number {
  return page.offset + pageSize;
}

/** Where to go after deleting a user: the page before when the deleted one was the page's last. */
export function offsetAfterDelete(page: Page<unknown>, pageSize = PAGE_SIZE): number {
  return page.items.length === 1 && page.offset > 0
    ? Math.max(0, page.offset - pageSize)
    : page.offset;
}

export type Parsed<Value> = { ok: true; value: Value } | { ok: false; error: string };

/** A Telegram user id as typed into the form: a whole number, 0 or more. */
export function parseTelegramId(text: string): Parsed<number> {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, error: "Enter a Telegram id." };
  if (!/^\d+$/.test(trimmed))
    return { ok: false, error: "A Telegram id is a whole number, 0 or more." };
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value)) return { ok: false, error: "That Telegram id is too large." };
  return { ok: true, value };
}

const STATUS_TEXT: Record<number, string> = {
  400: "Rejected",
  401: "Not signed in",
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  413: "Too large",
  415: "Not JSON",
  422: "Invalid input",
};

/** What the error banner says about a failed call: the status and the service's own words. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const label = STATUS_TEXT[error.status] ?? "Error";
    return `${label} (${error.status}): ${error.detail}`;
  }
  if (error instanceof UnexpectedResponseError) {
    return error.status === null
      ? `The backend did not answer: ${error.detail}`
      : `The backend answered ${error.status}: ${error.detail}`;
  }
  return error instanceof Error ? error.message : String(error);
}
