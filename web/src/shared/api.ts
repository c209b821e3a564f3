/**
 * The pages' API client: openapi-fetch typed by schema.d.ts (generated from the contracts'
 * OpenAPI document by `npm run build`), so a call that does not match the contract does not
 * compile. Every request carries the signed-in user's token; a 401 signs the user out (the
 * token expired or was revoked).
 */
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { session } from "./session";

export type Schemas = components["schemas"];
export type Product = Schemas["Product"];
export type Order = Schemas["Order"];
export type Notification = Schemas["Notification"];
export type User = Schemas["User"];
export type ErrorBody = Schemas["ErrorBody"];

const auth: Middleware = {
  onRequest({ request }) {
    const token = session.token();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has("Authorization")) session.signOut();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: location.origin });
api.use(auth);

/** What to tell the user about a failed call: the contract's message, or the network's. */
export function problem(error: unknown): string {
  if (error && typeof error === "object" && "message" in error) {
    const body = error as Partial<ErrorBody>;
    const fields = Array.isArray(body.data) ? body.data.map((d) => d.message).join("; ") : "";
    return fields ? `${body.message}: ${fields}` : String(body.message);
  }
  return "The shop could not be reached; try again.";
}
