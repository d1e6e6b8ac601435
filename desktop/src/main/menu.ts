import type { MenuItemConstructorOptions } from 'electron'

/**
 * The application menu. macOS needs one for its shortcuts (copy and paste go through the Edit
 * menu's roles); elsewhere it is hidden until Alt. Quit goes through `quit` so the core closes first;
 * developer tools exist only in unpackaged builds.
 */
export function applicationMenu(options: {
  platform: NodeJS.Platform
  isPackaged: boolean
  open(): void
  quit(): void
}): MenuItemConstructorOptions[] {
  const mac = options.platform === 'darwin'
  const quit: MenuItemConstructorOptions = {
    label: mac ? 'Quit Parley' : 'Quit',
    accelerator: 'CmdOrCtrl+Q',
    click: () => options.quit(),
  }
  const view: MenuItemConstructorOptions[] = [
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  ]
  if (!options.isPackaged) view.push({ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' })
  return [
    ...(mac
      ? [
          {
            label: 'Parley',
            submenu: [
              { role: 'about' },
              { type: 'separator' },
              { role: 'hide' },
              { role: 'hideOthers' },
              { role: 'unhide' },
              { type: 'separator' },
              quit,
            ],
          } satisfies MenuItemConstructorOptions,
        ]
      : [{ label: 'File', submenu: [{ label: 'Show Parley', click: () => options.open() }, quit] }]),
    {
      label: 'Edit',
      submenu: [
        { role: 'undo' },
        { role: 'redo' },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'pasteAndMatchStyle' },
        { role: 'delete' },
        { role: 'selectAll' },
      ],
    },
    { label: 'View', submenu: view },
    { role: 'windowMenu' },
  ]
}
