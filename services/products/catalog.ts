/** The demo catalog the embedded default starts with, so `npm start` shows a real shop. */
export function demoCatalog(): Record<string, unknown>[] {
  const items: Array<[string, string, string, number, number]> = [
    ["MUG-001", "Espresso mug", "Double-walled glass, 80 ml", 1299, 120],
    ["MUG-002", "Travel mug", "Stainless steel, keeps coffee hot for 6 h", 2499, 80],
    ["TEE-001", "Moleculer t-shirt", "Organic cotton, unisex", 1999, 200],
    ["HOOD-01", "Mesh hoodie", "Heavyweight fleece", 4999, 60],
    ["BOOK-01", "Designing microservices", "Paperback, 420 pages", 3999, 40],
    ["KEY-001", "Mechanical keyboard", "Tactile switches, 87 keys", 8999, 25],
    ["MOUSE-1", "Wireless mouse", "Silent clicks, USB-C", 2999, 70],
    ["LAMP-01", "Desk lamp", "Warm LED, dimmable", 3499, 35],
    ["NOTE-01", "Dotted notebook", "A5, 160 pages", 899, 300],
    ["PEN-001", "Gel pen set", "Ten colours", 699, 500],
    ["BAG-001", "Laptop backpack", "Water-resistant, 15 inch", 5999, 45],
    ["CABLE-1", "USB-C cable", "2 m, braided", 1199, 250],
  ];
  const now = new Date().toISOString();
  return items.map(([sku, name, description, price, stock]) => ({
    sku,
    name,
    description,
    price,
    currency: "USD",
    stock,
    createdAt: now,
    updatedAt: now,
  }));
}
