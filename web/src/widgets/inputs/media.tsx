// Inputs answered item by item: images each with a choice (confirm or correct a label), several
// choices, or a text; documents each with a text.

import type { DocumentWithTextIn, ImageWithSelectMulti, ImageWithSelectOne, ImageWithTextIn } from "../../api/types";
import { aria, type InputProps } from "../types";
import { RefImage } from "../views/RefImage";

/** Radios read best for a few choices; a long list becomes a dropdown. */
const RADIO_MAX = 6;

const at = <T,>(list: readonly T[], i: number, v: T) => list.map((x, j) => (j === i ? v : x));

/** An item's caption, else its file's name, else its number. */
const itemName = (captions: string[] | undefined, i: number, what = "Image", name?: string) =>
  captions?.[i] || name || `${what} ${i + 1}`;

export function ImageSelectOneInput(p: InputProps<ImageWithSelectOne, (string | null)[]>) {
  return (
    <div class="item-grid" id={p.id}>
      {p.c.images.map((image, i) => {
        const name = itemName(p.c.captions, i, "Image", image.name);
        const items = p.c.lists[i] ?? [];
        const value = p.value[i] ?? null;
        const set = (v: string | null) => p.onChange(at(p.value, i, v));
        const fid = `${p.id}-${i}`;
        return (
          <div class="item-card" key={i}>
            <RefImage image={image} alt={name} />
            {items.length <= RADIO_MAX ? (
              <fieldset class="item-choices">
                <legend>{name}</legend>
                {items.map((item, k) => (
                  <label key={item} class="choice choice--pill">
                    <input
                      type="radio"
                      name={fid}
                      id={`${fid}-${k}`}
                      checked={value === item}
                      disabled={p.disabled}
                      {...aria(p)}
                      onChange={() => set(item)}
                    />
                    <span>{item}</span>
                  </label>
                ))}
              </fieldset>
            ) : (
              <>
                <label for={fid}>{name}</label>
                <select id={fid} value={value ?? ""} disabled={p.disabled} {...aria(p)} onChange={(e) => set(e.currentTarget.value || null)}>
                  <option value="" disabled>
                    Choose…
                  </option>
                  {items.map((item) => (
                    <option key={item}>{item}</option>
                  ))}
                </select>
              </>
            )}
          </div>
        );
      })}
    </div>
  );
}

export function ImageSelectMultiInput(p: InputProps<ImageWithSelectMulti, string[][]>) {
  return (
    <div class="item-grid" id={p.id}>
      {p.c.images.map((image, i) => {
        const name = itemName(p.c.captions, i, "Image", image.name);
        const items = p.c.lists[i] ?? [];
        const chosen = new Set(p.value[i] ?? []);
        const toggle = (item: string, on: boolean) =>
          p.onChange(at(p.value, i, items.filter((x) => (x === item ? on : chosen.has(x)))));
        return (
          <div class="item-card" key={i}>
            <RefImage image={image} alt={name} />
            <fieldset class="item-choices">
              <legend>{name}</legend>
              {items.map((item, k) => (
                <label key={item} class="choice choice--pill">
                  <input
                    type="checkbox"
                    id={`${p.id}-${i}-${k}`}
                    checked={chosen.has(item)}
                    disabled={p.disabled}
                    {...aria(p)}
                    onChange={(e) => toggle(item, e.currentTarget.checked)}
                  />
                  <span>{item}</span>
                </label>
              ))}
            </fieldset>
          </div>
        );
      })}
    </div>
  );
}

export function ImageTextInput(p: InputProps<ImageWithTextIn, string[]>) {
  return (
    <div class="item-grid" id={p.id}>
      {p.c.images.map((image, i) => {
        const name = itemName(p.c.captions, i, "Image", image.name);
        const fid = `${p.id}-${i}`;
        return (
          <div class="item-card" key={i}>
            <RefImage image={image} alt={name} />
            <label for={fid}>{name}</label>
            <textarea
              id={fid}
              rows={2}
              value={p.value[i] ?? ""}
              maxLength={p.c.max_chars}
              disabled={p.disabled}
              {...aria(p)}
              onInput={(e) => p.onChange(at(p.value, i, e.currentTarget.value))}
            />
          </div>
        );
      })}
    </div>
  );
}

export function DocumentTextInput(p: InputProps<DocumentWithTextIn, string[]>) {
  return (
    <div class="stack" id={p.id}>
      {p.c.documents.map((doc, i) => {
        const name = itemName(p.c.titles, i, "Document");
        const fid = `${p.id}-${i}`;
        return (
          <div class="doc-card" key={i}>
            <h4 class="doc-title">{name}</h4>
            <div class="doc-text" tabIndex={0} aria-label={`${name}, text`}>
              {doc}
            </div>
            <label for={fid}>Your text for {name}</label>
            <textarea
              id={fid}
              rows={3}
              value={p.value[i] ?? ""}
              maxLength={p.c.max_chars}
              disabled={p.disabled}
              {...aria(p)}
              onInput={(e) => p.onChange(at(p.value, i, e.currentTarget.value))}
            />
          </div>
        );
      })}
    </div>
  );
}
