/**
 * Every service of the system by name. `SERVICES=api,products` picks some for one process; unset,
 * a process runs them all (the embedded default).
 */
import type { ServiceSchema } from "moleculer";
import api from "./api.service";
import notifications from "./notifications.service";
import orders from "./orders.service";
import payments from "./payments.service";
import products from "./products.service";
import users from "./users.service";

export const SERVICE_SCHEMAS: Record<string, ServiceSchema> = {
  api,
  users,
  products,
  orders,
  payments,
  notifications,
};

export function selectServices(names: string[] | null): ServiceSchema[] {
  if (names === null) return Object.values(SERVICE_SCHEMAS);
  return names.map((name) => {
    const schema = SERVICE_SCHEMAS[name];
    if (!schema) {
      const known = Object.keys(SERVICE_SCHEMAS).join(", ");
      throw new Error(`Unknown service "${name}" in SERVICES (known: ${known})`);
    }
    return schema;
  });
}
