/**
 * Arrow keys (and j/k) move the focus between the links of a list, so a long list is read without a
 * mouse; Enter follows the focused link as usual.
 */
export function moveFocusInList(event: KeyboardEvent): void {
  const down = event.key === 'ArrowDown' || event.key === 'j';
  const up = event.key === 'ArrowUp' || event.key === 'k';
  if (!down && !up) return;
  const list = event.currentTarget as HTMLElement;
  const links = [...list.querySelectorAll<HTMLElement>('[data-row-link]')];
  const at = links.indexOf(document.activeElement as HTMLElement);
  const next = links[Math.min(links.length - 1, Math.max(0, at + (down ? 1 : -1)))];
  if (next) {
    event.preventDefault();
    next.focus();
    next.scrollIntoView({ block: 'nearest' });
  }
}
