/**
 * The identity contract between the gateway and the services: the gateway puts the caller on
 * `ctx.meta.user`; actions declare who may call them with `auth`; services check ownership
 * themselves from `ctx.meta.user` (see DESIGN.md, "Authorization fails closed").
 */
export type Role = "customer" | "admin";

/** `"user"`: any authenticated caller; `"admin"`: callers with the admin role. */
export type AuthRequirement = "user" | "admin";

export interface MetaUser {
  id: string;
  roles: Role[];
}

export interface GatewayMeta {
  user?: MetaUser;
  /** Set by actions that answer with a status other than 200 (e.g. 201 on create). */
  $statusCode?: number;
  /** The new resource's URL, sent as `Location` with a 201. */
  $location?: string;
  $responseHeaders?: Record<string, string>;
  /** The client's `Idempotency-Key` header, forwarded by the gateway (checkout). */
  idempotencyKey?: string;
  /** When the caller's token expires (epoch ms); set by the gateway for its stream routes. */
  tokenExpiresAt?: number;
}

export function isAdmin(user: MetaUser | undefined): boolean {
  return Boolean(user && user.roles.includes("admin"));
}

declare module "moleculer" {
  interface ActionSchema {
    /** Who may call this action through the gateway; absent means anyone. */
    auth?: AuthRequirement;
  }
}
