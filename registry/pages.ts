/**
 * Reading a paged listing to the end, for internal callers that need every item (HTTP clients
 * page themselves).
 */
import type { Page } from './types.ts';

/** Largest page the store serves; fewest round trips. */
const PAGE_SIZE = 1000;

/** Every item of a listing: `list(token, size)` is called until a page has no next token. */
export async function allPages<T>(list: (pageToken: string | undefined, maxResults: number) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await list(token, PAGE_SIZE);
    items.push(...page.items);
    token = page.nextPageToken;
  } while (token !== undefined);
  return items;
}
