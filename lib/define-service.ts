import type { ServiceSchema, ServiceSettingSchema } from "moleculer";

/**
 * Types a service schema's `this` (settings, methods, mixin fields) while it is written, and
 * hands the broker the plain `ServiceSchema` it takes. The one cast lives here: moleculer's
 * schema type is contravariant in `this`, so a narrower schema is not assignable to the default.
 */
export function defineService<
  TSettings = ServiceSettingSchema,
  TMethods = Record<string, never>,
  TVars = Record<string, never>,
>(schema: ServiceSchema<TSettings, TMethods, TVars>): ServiceSchema {
  return schema as unknown as ServiceSchema;
}

/** The same for a mixin, which moleculer merges untyped. */
export function defineMixin<
  TSettings = ServiceSettingSchema,
  TMethods = Record<string, never>,
  TVars = Record<string, never>,
>(
  schema: Partial<ServiceSchema<TSettings, TMethods, TVars>> & Record<string, unknown>,
): Partial<ServiceSchema> {
  return schema as unknown as Partial<ServiceSchema>;
}
