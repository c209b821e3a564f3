/**
 * users: accounts and tokens. Register, login, me, update me (API.md, "Auth"); `resolveToken`
 * for the gateway (not published). Owns the `users` collection; emails are normalised
 * (lib/text.ts) and unique case-insensitively by a unique index on `emailLower`. Emits
 * `user.registered`; broadcasts `user.tokensRevoked` when a user's earlier tokens end.
 *
 * A token carries its user's `tokenVersion`; a password or role change moves the version on,
 * so every earlier token stops resolving, and a deleted user resolves to nothing.
 */
import type { Context, ServiceSettingSchema } from "moleculer";
import { config } from "../lib/config";
import { defineService } from "../lib/define-service";
import { liveReplicas } from "../lib/failover-call";
import { dbMixin, type DbMethods, type DbVars, type Doc } from "../mixins/db.mixin";
import { ConflictError, UnauthorizedError, ValidationError } from "../lib/errors";
import type { GatewayMeta, MetaUser, Role } from "../lib/auth";
import { emailKey, normalizeEmail } from "../lib/text";
import { decoyHash, hashPassword, verifyPassword } from "./users/passwords";
import { signToken, signingKey, verifyToken, type TokenSettings } from "./users/tokens";
import {
  loginParams,
  registerParams,
  resolveTokenParams,
  updateMeParams,
  userRegistered,
  userTokensRevoked,
  type AuthResult,
  type LoginParams,
  type RegisterParams,
  type UpdateMeParams,
  type User,
  type UserRegisteredEvent,
  type UserTokensRevokedEvent,
} from "../contracts/users";

export interface UserContact {
  email: string;
  name: string;
}

interface UserDoc extends Doc {
  email: string;
  emailLower: string;
  name: string;
  roles: Role[];
  passwordHash: string;
  /** Moves on when the user's earlier tokens must end; absent on accounts made before it. */
  tokenVersion?: number;
  createdAt: string;
  updatedAt: string;
}

interface UsersVars extends DbVars<UserDoc> {
  tokens: TokenSettings;
  decoy: Promise<string>;
}

interface UsersMethods extends DbMethods {
  publicUser(doc: UserDoc): User;
  issue(doc: UserDoc): Promise<{ user: User; token: string }>;
  revokeTokens(userId: string): Promise<void>;
  ensureAdmin(): Promise<void>;
}

/** The version new tokens of `doc` carry. */
function tokenVersion(doc: UserDoc): number {
  return doc.tokenVersion ?? 0;
}

export default defineService<ServiceSettingSchema, UsersMethods, UsersVars>({
  name: "users",
  mixins: [
    dbMixin<UserDoc>({ collection: "users", indexes: [{ field: "emailLower", unique: true }] }),
  ],

  actions: {
    register: {
      params: registerParams.rule,
      async handler(ctx: Context<RegisterParams, GatewayMeta>): Promise<AuthResult> {
        const cfg = config();
        const now = new Date().toISOString();
        let doc: UserDoc;
        try {
          doc = await this.store.insert({
            email: ctx.params.email,
            emailLower: emailKey(ctx.params.email),
            name: ctx.params.name,
            roles: ["customer"],
            passwordHash: await hashPassword(ctx.params.password, cfg.auth.scryptCost),
            tokenVersion: 0,
            createdAt: now,
            updatedAt: now,
          });
        } catch (err) {
          if (this.store.isDuplicateKeyError(err))
            throw new ConflictError("This email is already registered");
          throw err;
        }
        const result = await this.issue(doc);
        const event: UserRegisteredEvent = userRegistered.build(doc._id, {
          userId: doc._id,
          email: result.user.email,
          name: result.user.name,
        });
        await ctx.emit(userRegistered.name, event);
        ctx.meta.$statusCode = 201;
        ctx.meta.$location = "/api/users/me";
        return result;
      },
    },

    login: {
      params: loginParams.rule,
      async handler(ctx: Context<LoginParams>): Promise<AuthResult> {
        const doc = await this.store.findOne({
          emailLower: emailKey(ctx.params.email),
        });
        // Same scrypt work whether or not the account exists: the answer and its timing match.
        const ok = await verifyPassword(
          ctx.params.password,
          doc ? doc.passwordHash : await this.decoy,
        );
        if (!doc || !ok) throw new UnauthorizedError("Invalid email or password");
        return this.issue(doc);
      },
    },

    me: {
      auth: "user",
      // Per user; updateMe cleans it before it answers, so a change shows on the next read. With
      // Redis the gateway reads the entry itself (middlewares/caller-cache.ts): a hot profile
      // costs no call to this service (bench/README.md, me-read).
      cache: { keys: ["#user.id"], ttl: 60 },
      async handler(ctx: Context<unknown, GatewayMeta>): Promise<User> {
        const doc = await this.store.findById(ctx.meta.user!.id);
        // The token's user is gone: the token is what is wrong, not the path.
        if (!doc) throw new UnauthorizedError("Invalid or expired token");
        return this.publicUser(doc);
      },
    },

    updateMe: {
      auth: "user",
      params: updateMeParams.rule,
      async handler(ctx: Context<UpdateMeParams, GatewayMeta>): Promise<User> {
        const { name: newName, password: newPassword, currentPassword } = ctx.params;
        if (newName === undefined && newPassword === undefined) {
          throw new ValidationError("Nothing to update", [
            { field: "body", message: "give name or password", type: "required" },
          ]);
        }
        if (newPassword !== undefined && currentPassword === undefined) {
          throw new ValidationError("The current password is required to change it", [
            { field: "currentPassword", message: "required with password", type: "required" },
          ]);
        }
        const id = ctx.meta.user!.id;
        const before = await this.store.findById(id);
        if (!before) throw new UnauthorizedError("Invalid or expired token");
        const set: Record<string, unknown> = { updatedAt: new Date().toISOString() };
        const update: Record<string, unknown> = { $set: set };
        if (newName !== undefined) set.name = newName;
        if (newPassword !== undefined) {
          if (!(await verifyPassword(currentPassword!, before.passwordHash)))
            throw new UnauthorizedError("The current password is wrong");
          set.passwordHash = await hashPassword(newPassword, config().auth.scryptCost);
          update.$inc = { tokenVersion: 1 };
        }
        if ((await this.store.updateWhere({ _id: id }, update)) === 0)
          throw new UnauthorizedError("Invalid or expired token");
        if (newPassword !== undefined) await this.revokeTokens(id);
        else await this.clearCache();
        const doc = await this.store.findById(id);
        if (!doc) throw new UnauthorizedError("Invalid or expired token");
        return this.publicUser(doc);
      },
    },

    /**
     * The gateway's token check: the token must be ours and unexpired, its user must exist and
     * still be at the token's version. The roles are the user's now, not the token's. Not
     * cached here: the gateway remembers answers for a second and forgets them at once on
     * `user.tokensRevoked` (services/api/token-cache.ts).
     */
    resolveToken: {
      visibility: "public",
      params: resolveTokenParams.rule,
      async handler(ctx: Context<{ token: string }>): Promise<MetaUser | null> {
        const claims = await verifyToken(ctx.params.token, this.tokens);
        if (!claims) return null;
        const doc = await this.store.findById(claims.userId);
        if (!doc || tokenVersion(doc) !== claims.version) return null;
        return { id: doc._id, roles: doc.roles };
      },
    },

    /**
     * Where to reach a user, for the notifications service's e-mails (never on the gateway).
     * Cached per user; updateMe cleans this service's cache, so a new name shows on the next
     * mail. `null`: no such user.
     */
    contact: {
      visibility: "public",
      params: { userId: { type: "string", min: 1, max: 64 } },
      cache: { keys: ["userId"], ttl: 300 },
      async handler(ctx: Context<{ userId: string }>): Promise<UserContact | null> {
        const doc = await this.store.findById(ctx.params.userId);
        return doc ? { email: doc.email, name: doc.name } : null;
      },
    },
  },

  methods: {
    publicUser(u: UserDoc): User {
      return { id: u._id, email: u.email, name: u.name, roles: u.roles, createdAt: u.createdAt };
    },

    async issue(doc: UserDoc) {
      const user = this.publicUser(doc);
      const token = await signToken({ userId: user.id, version: tokenVersion(doc) }, this.tokens);
      return { user, token };
    },

    /**
     * Ends the user's earlier tokens everywhere: call after moving `tokenVersion` on (or after
     * removing the user). Cleans this service's cache and tells every gateway replica, before
     * the change answers.
     */
    async revokeTokens(userId: string) {
      await this.clearCache();
      const event: UserTokensRevokedEvent = {
        eventId: userTokensRevoked.eventId(userId, String(Date.now())),
        userId,
      };
      await this.broker.broadcast(userTokensRevoked.name, event);
      // The broadcast arrives when it arrives; the change must not answer before every gateway
      // has forgotten the tokens, so each live one is also asked directly and awaited. A gateway
      // that does not answer in time still drops them within its token memory's TTL.
      await Promise.allSettled(
        liveReplicas(this.broker, "api.forgetUser").map((nodeID) =>
          this.broker.call("api.forgetUser", event, { nodeID, timeout: 1_000, retries: 0 }),
        ),
      );
    },

    /** ADMIN_EMAIL/ADMIN_PASSWORD: the admin exists after start; an existing password is kept. */
    async ensureAdmin() {
      const { adminEmail, adminPassword, scryptCost } = config().auth;
      if (!adminEmail || !adminPassword) return;
      const checked = normalizeEmail(adminEmail);
      if (!checked.ok) throw new Error(`ADMIN_EMAIL is not a usable address (${checked.reason})`);
      const emailLower = emailKey(checked.email);
      const existing = await this.store.findOne({ emailLower });
      if (existing) {
        if (!existing.roles.includes("admin")) {
          // A role change: the account's earlier (customer) tokens end.
          await this.store.updateWhere(
            { _id: existing._id },
            { $set: { roles: ["customer", "admin"] }, $inc: { tokenVersion: 1 } },
          );
          await this.revokeTokens(existing._id);
        }
        return;
      }
      const now = new Date().toISOString();
      try {
        await this.store.insert({
          email: checked.email,
          emailLower,
          name: "Administrator",
          roles: ["customer", "admin"],
          passwordHash: await hashPassword(adminPassword, scryptCost),
          tokenVersion: 0,
          createdAt: now,
          updatedAt: now,
        });
        this.logger.info(`Created the admin account ${checked.email}.`);
      } catch (err) {
        // Another users replica created it at the same moment.
        if (!this.store.isDuplicateKeyError(err)) throw err;
      }
    },
  },

  created() {
    const cfg = config();
    this.tokens = {
      secret: signingKey(cfg.auth.jwtSecret, cfg.dataDir, (message) => this.logger.warn(message)),
      issuer: cfg.auth.jwtIssuer,
      expiresIn: cfg.auth.jwtExpiresIn,
    };
    this.decoy = decoyHash(cfg.auth.scryptCost);
  },

  async started() {
    await this.ensureAdmin();
  },
});
