/**
 * Rasterizes the desktop app's SVG icons (desktop/build/*.svg) into the PNGs the packager and the
 * running app use. Run after changing an SVG: `npx tsx scripts/make-icons.ts`; the PNGs are committed.
 *
 *   desktop/build/icon.png           1024 px: electron-builder makes the .icns (macOS) and .ico (Windows)
 *   desktop/build/icons/NxN.png      Linux (AppImage, deb) at the sizes desktops look for
 *   desktop/resources/*.png          loaded at run time: window icon, tray icons, Windows overlay
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const build = path.join(root, 'desktop', 'build')
const resources = path.join(root, 'desktop', 'resources')

async function render(svg: string, size: number, out: string): Promise<void> {
  mkdirSync(path.dirname(out), { recursive: true })
  const file = path.join(build, svg)
  const natural = (await sharp(file).metadata()).width ?? size
  // Drawn at (at least) the target size, so the vector is never scaled up as pixels.
  await sharp(file, { density: Math.max(72, Math.ceil((72 * size) / natural)) })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toFile(out)
}

async function main(): Promise<void> {
  await render('icon.svg', 1024, path.join(build, 'icon.png'))
  for (const size of [16, 24, 32, 48, 64, 128, 256, 512]) {
    await render('icon.svg', size, path.join(build, 'icons', `${size}x${size}.png`))
  }
  await render('icon.svg', 512, path.join(resources, 'icon.png'))
  const pairs: Array<[string, string]> = [
    ['tray.svg', 'tray'],
    ['tray-unread.svg', 'tray-unread'],
    ['tray-template.svg', 'trayTemplate'],
    ['tray-unread-template.svg', 'trayUnreadTemplate'],
    ['badge.svg', 'badge'],
  ]
  // 16 px and its @2x: nativeImage.createFromPath picks the @2x on high-density screens.
  for (const [svg, name] of pairs) {
    await render(svg, 16, path.join(resources, `${name}.png`))
    await render(svg, 32, path.join(resources, `${name}@2x.png`))
  }
  console.log(`icons written to ${path.relative(root, build)} and ${path.relative(root, resources)}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
