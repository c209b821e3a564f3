/** users: accounts, sign-in, tokens. */
import { params, s, type Infer, type InferParams } from "./schema";
import { defineEvent, type EventOf } from "./events";

export const ROLES = ["customer", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const user = s.object({
  id: s.string({ example: "u_8f3a2c" }),
  email: s.emailAddress({ example: "ada@example.com" }),
  name: s.text({ example: "Ada Lovelace" }),
  roles: s.array(s.enum(ROLES)),
  createdAt: s.dateTime(),
});
export type User = Infer<typeof user>;

export const authResult = s.object({
  user: s.ref("User", user),
  token: s.string({ description: "A bearer token for `Authorization: Bearer …`" }),
});
export type AuthResult = Infer<typeof authResult>;

const email = s.emailAddress({ example: "ada@example.com" });
const password = s.text({ min: 8, max: 128, example: "correct horse battery" });
const name = s.text({ min: 1, max: 100, trim: true, example: "Ada Lovelace" });

export const registerParams = params({ email, password, name }, { strip: true });
export type RegisterParams = InferParams<typeof registerParams>;

export const loginParams = params(
  { email, password: s.text({ max: 128, example: "correct horse battery" }) },
  { strip: true },
);
export type LoginParams = InferParams<typeof loginParams>;

export const updateMeParams = params(
  {
    name: s.optional(name),
    password: s.optional(password),
    currentPassword: s.optional(
      s.text({ max: 128, description: "Required when `password` is given" }),
    ),
  },
  // An empty body changes nothing: refused with 422 "Nothing to update" (users.updateMe).
  { strip: true, minProperties: 1 },
);
export type UpdateMeParams = InferParams<typeof updateMeParams>;

export const resolveTokenParams = params({ token: s.string({ max: 4096 }) });

export const USER_REGISTERED = "user.registered";
export const userRegistered = defineEvent(USER_REGISTERED, {
  userId: s.string(),
  email: s.string(),
  name: s.string(),
});
export type UserRegisteredEvent = EventOf<typeof userRegistered>;

/**
 * A user's earlier tokens ended (password or role changed, user gone). Broadcast, not emitted
 * balanced: every gateway replica drops the user's remembered tokens
 * (services/api/token-cache.ts).
 */
export const USER_TOKENS_REVOKED = "user.tokensRevoked";
export const userTokensRevoked = defineEvent(USER_TOKENS_REVOKED, { userId: s.string() });
export type UserTokensRevokedEvent = EventOf<typeof userTokensRevoked>;
