/**
 * Which message of the list shows its actions toolbar: never more than one. A toolbar opened from
 * the keyboard, or one whose emoji picker or message menu is open, stays put while the pointer wanders; otherwise
 * the toolbar follows the pointer. Once a reaction is chosen it goes, and comes back only when the
 * pointer leaves that message and returns.
 */
export class MessageToolbar {
  #pointer = $state<number | null>(null)
  #dismissed = $state<number | null>(null)
  #keyboard = $state<number | null>(null)
  #picker = $state<number | null>(null)

  /** The localId of the message whose toolbar is shown, if any. */
  get shown(): number | null {
    return this.#picker ?? this.#keyboard ?? (this.#pointer === this.#dismissed ? null : this.#pointer)
  }

  pointerEnter(key: number): void {
    this.#pointer = key
  }

  pointerLeave(key: number): void {
    if (this.#pointer === key) this.#pointer = null
    if (this.#dismissed === key) this.#dismissed = null
  }

  /** Enter or Shift+F10 on a message: its toolbar takes the focus. */
  openFromKeyboard(key: number): void {
    this.#keyboard = key
  }

  closeFromKeyboard(key: number): void {
    if (this.#keyboard === key) this.#keyboard = null
  }

  /** Its emoji picker or its message menu opened. */
  popoverOpened(key: number): void {
    this.#picker = key
  }

  popoverClosed(key: number): void {
    if (this.#picker === key) this.#picker = null
  }

  /** A reaction was chosen: the toolbar's work is done. */
  chosen(key: number): void {
    this.popoverClosed(key)
    this.closeFromKeyboard(key)
    if (this.#pointer === key) this.#dismissed = key
  }

  /** The message left the screen (virtualized away, or removed). */
  forget(key: number): void {
    this.chosen(key)
    this.pointerLeave(key)
  }
}
