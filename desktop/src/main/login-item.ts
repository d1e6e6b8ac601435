import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/** Started at login, the app opens in the tray, not in the user's face. */
export const HIDDEN_FLAG = '--hidden'

export interface LoginItemTarget {
  platform: NodeJS.Platform
  /** Electron's `app.setLoginItemSettings` (macOS and Windows only). */
  setLoginItemSettings(settings: { openAtLogin: boolean; args?: string[] }): void
  /** Linux: the XDG autostart folder (`~/.config/autostart`) and what to run. */
  autostartDir: string
  /** The executable to start: the AppImage when run from one (its mount point changes each run). */
  executable: string
}

/** Quotes a path for a desktop entry's Exec key (freedesktop Desktop Entry spec, "Exec" key). */
export function quoteExecArgument(arg: string): string {
  if (!/[\s"'\\`$<>|;&*?#()~]/.test(arg)) return arg
  return `"${arg.replace(/(["`$\\])/g, '\\$1')}"`
}

export function autostartEntry(executable: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Parley',
    'Comment=Self-hosted messenger',
    `Exec=${quoteExecArgument(executable)} ${HIDDEN_FLAG}`,
    'Icon=parley',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n')
}

export const AUTOSTART_FILE = 'parley.desktop'

/**
 * Starts the app at login or stops doing so. macOS and Windows have an API for it; on Linux it is
 * a desktop entry in the XDG autostart folder, which GNOME, KDE, Xfce and the others read.
 */
export function applyStartAtLogin(enabled: boolean, target: LoginItemTarget): void {
  if (target.platform === 'darwin' || target.platform === 'win32') {
    target.setLoginItemSettings(
      target.platform === 'win32' ? { openAtLogin: enabled, args: [HIDDEN_FLAG] } : { openAtLogin: enabled },
    )
    return
  }
  const file = path.join(target.autostartDir, AUTOSTART_FILE)
  if (!enabled) {
    rmSync(file, { force: true })
    return
  }
  mkdirSync(target.autostartDir, { recursive: true })
  const temporary = `${file}.tmp`
  writeFileSync(temporary, autostartEntry(target.executable))
  renameSync(temporary, file)
}
