/**
 * users: accounts and tokens. Register, login, me, update me (API.md, "Auth"); `resolveToken`
 * for the gateway (not published, cached). Owns the `users` collection; emails are unique
 * case-insensitively by a unique index on `emailLower`. Emits `user.registered`.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Context, ServiceSettingSchema } from "moleculer";
import { config } from "../lib/config";
import { defineService } from "../lib/define-service";
import { dbMixin, type DbMethods, type DbVars, type Doc } from "../mixins/db.mixin";
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from "../lib/errors";
import type { GatewayMeta, MetaUser, Role } from "../lib/auth";
import { decoyHash, hashPassword, verifyPassword } from "./users/passwords";
import { signToken, verifyToken, type TokenSettings } from "./users/tokens";
import { USER_REGISTERED, type UserRegisteredEvent } from "../lib/events";

export interface User {
  id: string;
  email: string;
  name: string;
  roles: Role[];
  createdAt: string;
}

interface UserDoc extends Doc {
  email: string;
  emailLower: string;
  name: string;
  roles: Role[];
  passwordHash: string;
  createdAt: string;
  updatedAt: string;
}

interface UsersVars extends DbVars {
  tokens: TokenSettings;
  decoy: Promise<string>;
}

interface UsersMethods extends DbMethods {
  publicUser(doc: Doc): User;
  issue(doc: Doc): Promise<{ user: User; token: string }>;
  ensureAdmin(): Promise<void>;
}

const email = { type: "email", max: 254, trim: true } as const;
const password = { type: "string", min: 8, max: 128 } as const;
const name = { type: "string", min: 1, max: 100, trim: true } as const;

/**
 * The signing key: JWT_SECRET when set (required in production and for several users
 * replicas); otherwise one random key per data dir, kept in a file so tokens survive a
 * restart of the embedded default, or per process when data is in memory.
 */
function jwtSecret(): Uint8Array {
  const cfg = config();
  if (cfg.auth.jwtSecret) return new TextEncoder().encode(cfg.auth.jwtSecret);
  if (cfg.dataDir === null) return randomBytes(32);
  const file = path.join(cfg.dataDir, ".jwt-secret");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(cfg.dataDir, { recursive: true });
    fs.writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
    console.warn(`JWT_SECRET is not set: generated a random signing key in ${file}`);
  }
  return new TextEncoder().encode(fs.readFileSync(file, "utf8").trim());
}

export default defineService<ServiceSettingSchema, UsersMethods, UsersVars>({
  name: "users",
  mixins: [dbMixin({ collection: "users", indexes: [{ field: "emailLower", unique: true }] })],

  actions: {
    register: {
      params: { $$strict: "remove", email, password, name },
      async handler(
        ctx: Context<{ email: string; password: string; name: string }, GatewayMeta>,
      ): Promise<{ user: User; token: string }> {
        const cfg = config();
        const now = new Date().toISOString();
        let doc: Doc;
        try {
          doc = await this.store.insert({
            email: ctx.params.email,
            emailLower: ctx.params.email.toLowerCase(),
            name: ctx.params.name,
            roles: ["customer"],
            passwordHash: await hashPassword(ctx.params.password, cfg.auth.scryptCost),
            createdAt: now,
            updatedAt: now,
          });
        } catch (err) {
          if (this.store.isDuplicateKeyError(err))
            throw new ConflictError("This email is already registered");
          throw err;
        }
        const result = await this.issue(doc);
        const event: UserRegisteredEvent = {
          eventId: `user.registered:${doc._id}`,
          userId: doc._id,
          email: result.user.email,
          name: result.user.name,
        };
        await ctx.emit(USER_REGISTERED, event);
        ctx.meta.$statusCode = 201;
        ctx.meta.$location = "/api/users/me";
        return result;
      },
    },

    login: {
      params: {
        $$strict: "remove",
        email: { type: "string", max: 254, trim: true },
        password: { type: "string", max: 128 },
      },
      async handler(
        ctx: Context<{ email: string; password: string }>,
      ): Promise<{ user: User; token: string }> {
        const doc = (await this.store.findOne({
          emailLower: ctx.params.email.toLowerCase(),
        })) as UserDoc | null;
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
        if (!doc) throw new NotFoundError("User");
        return this.publicUser(doc);
      },
    },

    updateMe: {
      auth: "user",
      params: {
        $$strict: "remove",
        name: { ...name, optional: true },
        password: { ...password, optional: true },
      },
      async handler(
        ctx: Context<{ name?: string; password?: string }, GatewayMeta>,
      ): Promise<User> {
        const set: Record<string, unknown> = {};
        if (ctx.params.name !== undefined) set.name = ctx.params.name;
        if (ctx.params.password !== undefined) {
          set.passwordHash = await hashPassword(ctx.params.password, config().auth.scryptCost);
        }
        if (Object.keys(set).length === 0) {
          throw new ValidationError("Nothing to update", [
            { field: "body", message: "give name or password", type: "required" },
          ]);
        }
        set.updatedAt = new Date().toISOString();
        const id = ctx.meta.user!.id;
        if ((await this.store.updateWhere({ _id: id }, { $set: set })) === 0)
          throw new NotFoundError("User");
        await this.clearCache();
        const doc = await this.store.findById(id);
        if (!doc) throw new NotFoundError("User");
        return this.publicUser(doc);
      },
    },

    /** The gateway's token check. Not published; cached so a hot token costs one lookup. */
    resolveToken: {
      visibility: "public",
      params: { token: { type: "string", max: 4096 } },
      cache: { keys: ["token"], ttl: 30 },
      async handler(ctx: Context<{ token: string }>): Promise<MetaUser | null> {
        return verifyToken(ctx.params.token, this.tokens);
      },
    },
  },

  methods: {
    publicUser(doc: Doc): User {
      const u = doc as UserDoc;
      return { id: u._id, email: u.email, name: u.name, roles: u.roles, createdAt: u.createdAt };
    },

    async issue(doc: Doc) {
      const user = this.publicUser(doc);
      const token = await signToken({ id: user.id, roles: user.roles }, this.tokens);
      return { user, token };
    },

    /** ADMIN_EMAIL/ADMIN_PASSWORD: the admin exists after start; an existing password is kept. */
    async ensureAdmin() {
      const { adminEmail, adminPassword, scryptCost } = config().auth;
      if (!adminEmail || !adminPassword) return;
      const emailLower = adminEmail.toLowerCase();
      const existing = (await this.store.findOne({ emailLower })) as UserDoc | null;
      if (existing) {
        if (!existing.roles.includes("admin")) {
          await this.store.updateWhere(
            { _id: existing._id },
            { $set: { roles: ["customer", "admin"] } },
          );
        }
        return;
      }
      const now = new Date().toISOString();
      try {
        await this.store.insert({
          email: adminEmail,
          emailLower,
          name: "Administrator",
          roles: ["customer", "admin"],
          passwordHash: await hashPassword(adminPassword, scryptCost),
          createdAt: now,
          updatedAt: now,
        });
        this.logger.info(`Created the admin account ${adminEmail}.`);
      } catch (err) {
        // Another users replica created it at the same moment.
        if (!this.store.isDuplicateKeyError(err)) throw err;
      }
    },
  },

  created() {
    const cfg = config();
    this.tokens = {
      secret: jwtSecret(),
      issuer: cfg.auth.jwtIssuer,
      expiresIn: cfg.auth.jwtExpiresIn,
    };
    this.decoy = decoyHash(cfg.auth.scryptCost);
  },

  async started() {
    await this.ensureAdmin();
  },
});
