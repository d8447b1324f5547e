/** Demo catalog rows served by `list_catalog` and the `onec://catalog/*` resources. Fiction, not real data. */
export const DEMO_CATALOGS: Readonly<Record<string, ReadonlyArray<Record<string, string | number>>>> = {
  products: [
    { code: '000000001', name: 'Бумага офисная А4', unit: 'пач', price: 450 },
    { code: '000000002', name: 'Ручка шариковая синяя', unit: 'шт', price: 35 },
    { code: '000000003', name: 'Степлер настольный', unit: 'шт', price: 620 },
    { code: '000000004', name: 'Скрепки 28 мм', unit: 'уп', price: 90 },
  ],
  counterparties: [
    { code: '000000101', name: 'ООО "Ромашка"', inn: '7700000001' },
    { code: '000000102', name: 'ИП Петров П.П.', inn: '500000000002' },
    { code: '000000103', name: 'АО "Вектор"', inn: '7800000003' },
  ],
};

/** Names accepted by `list_catalog`. */
export const CATALOG_NAMES = Object.keys(DEMO_CATALOGS);
