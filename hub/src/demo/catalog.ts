/** What the demo fleet sells and stocks: plausible names, prices in cents, bin sizes. */
export const DEMO_MERCHANTS = ['Northside Roasters', 'Campus Coffee Co.', 'Station Brews', 'Harbour Café'];
/** The demo merchants' time zones, one each in turn: finance days and dashboards differ between them. */
export const DEMO_TIME_ZONES = ['Europe/Berlin', 'Europe/Lisbon', 'America/New_York', 'Asia/Tokyo'];
export const DEMO_CITIES = ['Berlin', 'Lyon', 'Milano', 'Porto', 'Gdańsk', 'Utrecht'];
export const DEMO_SITES = [
  'Central Station',
  'Library',
  'Office Tower',
  'Hospital Lobby',
  'Gym',
  'Airport Gate',
  'Campus Hall',
  'Mall Level 2',
];

export const DEMO_DRINKS = [
  { recipeId: 'espresso', size: 'S', amount: 180, weight: 18 },
  { recipeId: 'espresso', size: 'M', amount: 250, weight: 8 },
  { recipeId: 'americano', size: 'M', amount: 260, weight: 20 },
  { recipeId: 'americano', size: 'L', amount: 300, weight: 8 },
  { recipeId: 'cappuccino', size: 'M', amount: 340, weight: 24 },
  { recipeId: 'flat-white', size: 'M', amount: 360, weight: 12 },
  { recipeId: 'latte', size: 'L', amount: 390, weight: 10 },
] as const;

export const DEMO_BINS = [
  { bin: 1, material: 'water', unit: 'ml', capacity: 10_000, low: 1500, high: 9500 },
  { bin: 2, material: 'beans', unit: 'g', capacity: 2_000, low: 300, high: 1900 },
  { bin: 3, material: 'milk', unit: 'ml', capacity: 4_000, low: 600, high: 3800 },
  { bin: 4, material: 'cups', unit: 'pcs', capacity: 300, low: 40, high: 290 },
  { bin: 5, material: 'waste', unit: 'pct', capacity: 100, low: 0, high: 80 },
] as const;

/** Machines whose milk line carries oat milk instead (every 5th), and with a chocolate bin 6 (every 4th). */
export const DEMO_OAT_MILK_BIN = {
  bin: 3,
  material: 'oat_milk',
  unit: 'ml',
  capacity: 4_000,
  low: 600,
  high: 3800,
};
export const DEMO_CHOCOLATE_BIN = {
  bin: 6,
  material: 'chocolate',
  unit: 'g',
  capacity: 1_500,
  low: 200,
  high: 1400,
};

/** The bins of the d-th demo machine (from 1): a fixed pattern, so the random sequence stays as it was. */
export function demoBins(d: number) {
  const bins = DEMO_BINS.map((b) => (b.bin === 3 && d % 5 === 0 ? DEMO_OAT_MILK_BIN : b));
  return d % 4 === 0 ? [...bins, DEMO_CHOCOLATE_BIN] : bins;
}

export const DEMO_CATALOG = [
  { sku: 'BEAN-ARABICA-1KG', name: 'Arabica house blend 1 kg', material: 'beans', unit: 'g', packSize: 1000 },
  { sku: 'BEAN-DECAF-500', name: 'Decaf 500 g', material: 'beans', unit: 'g', packSize: 500 },
  { sku: 'MILK-WHOLE-1L', name: 'Whole milk 1 l', material: 'milk', unit: 'ml', packSize: 1000 },
  { sku: 'MILK-OAT-1L', name: 'Oat drink 1 l', material: 'oat_milk', unit: 'ml', packSize: 1000 },
  {
    sku: 'CHOC-POWDER-1KG',
    name: 'Drinking chocolate 1 kg',
    material: 'chocolate',
    unit: 'g',
    packSize: 1000,
  },
  { sku: 'CUP-8OZ-50', name: 'Paper cups 8 oz (50)', material: 'cups', unit: 'pcs', packSize: 50 },
  { sku: 'WATER-FILTER', name: 'Water refill 10 l', material: 'water', unit: 'ml', packSize: 10000 },
] as const;

export const DEMO_FAULTS = [
  { code: 'grinder_jam', severity: 'critical' },
  { code: 'door_open', severity: 'warning' },
  { code: 'boiler_overheat', severity: 'critical' },
  { code: 'payment_terminal_offline', severity: 'warning' },
  { code: 'pump_fault', severity: 'critical' },
] as const;

export const DEMO_REFUND_REASONS = [
  'Drink was cold',
  'No cup dispensed',
  'Wrong drink',
  'Charged twice by mistake',
  'Machine spilled',
];
