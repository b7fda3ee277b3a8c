// Paged list inputs, shared by every procedure that tRPC clients may read as an infinite query.
import { z } from "zod";

/**
 * tRPC's infinite-query helpers (`infiniteQueryOptions`, `useInfiniteQuery`) add the page
 * direction TanStack Query asks for to every request's input, next to `cursor`. Strict list
 * inputs refuse unknown keys, so they must name this one or every such request fails with
 * "Unrecognized key: direction". It is accepted and ignored: our lists return only a
 * `nextCursor`, so a client has no cursor to page backward from, and "backward" with a
 * cursor it made up reads forward from that cursor like any other request.
 */
export const pageDirectionSchema = z.enum(["forward", "backward"]).optional();
