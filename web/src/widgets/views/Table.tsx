// Table.View: rows under their columns, scrolling sideways inside its box on a narrow screen.

import type { Cell, TableView } from "../../api/types";

function show(v: Cell | undefined): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  return String(v);
}

export function TableOut({ c }: { c: TableView }) {
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label={c.title ?? "Table"}>
      <table class="data-table">
        <thead>
          <tr>
            {c.columns.map((name, i) => (
              <th key={i} scope="col">
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {c.rows.map((row, r) => (
            <tr key={r}>
              {c.columns.map((_, k) => (
                <td key={k} class={typeof row[k] === "number" ? "num" : undefined}>
                  {show(row[k])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {c.rows.length === 0 && <p class="muted">No rows.</p>}
    </div>
  );
}
