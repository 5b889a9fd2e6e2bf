// Builds examples/incident-bundle.zip, the bundle `npm start` uploads and the worker tests use:
// a real capture from the corpus plus a manifest.json. Reproducible: the same inputs give the
// same bytes (fixed entry times, fixed order).
//
//   node scripts/make-example.mjs [--corpus DIR] [--out FILE]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { zipSync, strToU8 } from 'fflate'

// Zip entry times are DOS local times: pin the zone so every machine writes the same bytes.
process.env.TZ = 'UTC'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const flag = (name, fallback) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : fallback
}
const corpus = resolve(
  flag('--corpus', process.env.DNSBUNDLE_CORPUS ?? join(root, '..', 'shared', 'corpus')),
)
const out = resolve(flag('--out', join(root, 'examples', 'incident-bundle.zip')))

// DNS-OARC/dnscap src/test/dns.pcap (BSD-3-Clause): 41 UDP transactions, all answered.
const capture = readFileSync(join(findCorpus(corpus), 'pcap', 'dnscap', 'dns.pcap'))

const manifest = {
  schema: 'dnsbundle.manifest/v1',
  collectedBy: { name: 'dnsbundle', version: 'example' },
  collectedAt: '2026-01-01T00:00:00Z',
  files: [
    {
      path: 'captures/dns.pcap',
      kind: 'pcap',
      vantage: { id: 'capture-point', type: 'node', name: 'capture point', addresses: [] },
      command: 'dnscap test capture (DNS-OARC/dnscap src/test/dns.pcap, BSD-3-Clause)',
    },
  ],
  notes: ['Example bundle built by scripts/make-example.mjs from a public test capture.'],
}

const mtime = new Date('2026-01-01T00:00:00Z')
const zip = zipSync(
  {
    'manifest.json': [strToU8(JSON.stringify(manifest, null, 2) + '\n'), { mtime }],
    'captures/dns.pcap': [new Uint8Array(capture), { mtime }],
  },
  { level: 9 },
)
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, zip)
console.log(`wrote ${out} (${zip.length} bytes)`)

function findCorpus(dir) {
  try {
    readFileSync(join(dir, 'SOURCES.md'))
    return dir
  } catch {
    for (const alt of ['/work/shared/corpus']) {
      try {
        readFileSync(join(alt, 'SOURCES.md'))
        return alt
      } catch {
        // try the next
      }
    }
    throw new Error(`no corpus at ${dir}: pass --corpus DIR`)
  }
}
