/**
 * Moves an element to the end of <body>: a popover rendered inside the virtualized message list
 * would otherwise be positioned and clipped by the list's CSS containment.
 */
export function portal(node: HTMLElement): { destroy(): void } {
  document.body.appendChild(node)
  return {
    destroy() {
      node.remove()
    },
  }
}
