// A busy indicator with its words, announced politely to screen readers.

export function Busy({ text }: { text: string }) {
  return (
    <p class="busy" role="status">
      <span class="spinner" aria-hidden="true" />
      {text}
    </p>
  );
}
