// The table's settings, shared by the rows (runs-table.mjs) and the view that orders them (runs-view.mjs): the
// columns chosen, each run's comparable row (compare.mjs's rowOf), the filter.
export const table = {
  columns: [],          // column ids shown after lr, in order
  rows: new Map(),      // run id -> compare row
  setFilter: () => {},  // runs-view.mjs: sets the filter box and applies it
};
