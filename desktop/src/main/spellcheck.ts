/** The parts of Electron's Session the spellchecker settings use. */
export interface SpellcheckSession {
  setSpellCheckerEnabled(enable: boolean): void
  setSpellCheckerDictionaryDownloadURL(url: string): void
}

/**
 * Where Chromium is told to fetch Hunspell dictionaries from: a closed port on this computer, so
 * a missing dictionary is never fetched from Google's servers (Chromium's default on Linux and
 * Windows), which would tell them the languages of the user and when the app runs.
 */
export const NO_DICTIONARY_DOWNLOAD_URL = 'http://127.0.0.1:9/'

export interface SpellcheckOptions {
  /**
   * A base address to download dictionaries from (a mirror the user trusts); by default none, and
   * only dictionaries already on this computer are used (macOS's own spellchecker needs none).
   */
  dictionaryUrl?: string | undefined
}

/** Spellchecking stays on, but never downloads a dictionary unless an address is configured. */
export function applySpellcheck(session: SpellcheckSession, options: SpellcheckOptions = {}): void {
  session.setSpellCheckerEnabled(true)
  const url = options.dictionaryUrl?.trim()
  session.setSpellCheckerDictionaryDownloadURL(
    url && /^https:\/\//.test(url) ? url : NO_DICTIONARY_DOWNLOAD_URL,
  )
}
