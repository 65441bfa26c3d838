// Table.In: rows of typed cells, with rows added and removed within min_rows..max_rows.

import type { Cell, TableIn } from "../../api/types";
import { emptyCell } from "../../catalogue/values";
import { aria, type InputProps } from "../types";

function readCell(type: string | undefined, input: HTMLInputElement): Cell {
  if (type === "boolean") return input.checked;
  if (type === "number" || type === "integer") return input.value.trim() === "" ? null : Number(input.value);
  return input.value;
}

export function TableInput(p: InputProps<TableIn, Cell[][]>) {
  const rows = p.value ?? [];
  const min = p.c.min_rows ?? 1;
  const max = p.c.max_rows ?? 1000;
  const setCell = (r: number, k: number, v: Cell) =>
    p.onChange(rows.map((row, i) => (i === r ? row.map((x, j) => (j === k ? v : x)) : row)));
  return (
    <div class="table-input" id={p.id}>
      <div class="table-scroll">
        <table>
          <thead>
            <tr>
              {p.c.columns.map((col) => (
                <th key={col.name} scope="col">
                  {col.name}
                </th>
              ))}
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, r) => (
              <tr key={r}>
                {p.c.columns.map((col, k) => {
                  const v = row[k] ?? null;
                  const label = `${col.name}, row ${r + 1}`;
                  const numeric = col.type === "number" || col.type === "integer";
                  return (
                    <td key={col.name}>
                      {col.type === "boolean" ? (
                        <input
                          type="checkbox"
                          aria-label={label}
                          checked={v === true}
                          disabled={p.disabled}
                          onChange={(e) => setCell(r, k, readCell(col.type, e.currentTarget))}
                        />
                      ) : (
                        <input
                          type={numeric ? "number" : "text"}
                          step={col.type === "integer" ? 1 : "any"}
                          aria-label={label}
                          value={v === null ? "" : String(v)}
                          disabled={p.disabled}
                          {...aria(p)}
                          onInput={(e) => setCell(r, k, readCell(col.type, e.currentTarget))}
                        />
                      )}
                    </td>
                  );
                })}
                <td>
                  {!p.disabled && (
                    <button
                      type="button"
                      class="link-button"
                      disabled={rows.length <= min}
                      aria-label={`Remove row ${r + 1}`}
                      onClick={() => p.onChange(rows.filter((_, i) => i !== r))}
                    >
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!p.disabled && (
        <button
          type="button"
          class="button button--small"
          disabled={rows.length >= max}
          onClick={() => p.onChange([...rows, p.c.columns.map((col) => emptyCell(col.type))])}
        >
          Add a row
        </button>
      )}
    </div>
  );
}
