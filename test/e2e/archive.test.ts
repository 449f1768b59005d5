import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import test from 'brittle'
import { hex } from '../../src/kernel/encoding.js'
import { deriveDevice } from '../../src/kernel/identity/keys.js'
import { conclave, tmpHome } from '../helpers/cli.js'
import { archivesOf, closedVote, show } from '../helpers/convo.js'
import { eventually, startNode, statusOf } from '../helpers/node-process.js'
import { inviteAndJoin } from '../helpers/pairing.js'
import { createTestnet } from '../helpers/testnet.js'

const TOPIC = 'Where do we hide the zanzibar-lighthouse picnic basket?'
const CHOICE = 'under-the-quokka-bridge'
const OTHER = 'behind-the-marmot-shed'

/** Every file under `dir` (RocksDB tables, logs, JSON), with the needles each one contains. */
function scan(dir: string, needles: Array<string | Buffer>): Array<{ file: string; found: string[] }> {
  const hits: Array<{ file: string; found: string[] }> = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else {
        const bytes = readFileSync(p)
        const found = needles.filter((n) =>
          bytes.includes(typeof n === 'string' ? Buffer.from(n, 'utf8') : n)
        )
        if (found.length)
          hits.push({
            file: p,
            found: found.map((n) => (typeof n === 'string' ? n : `0x${n.toString('hex')}`))
          })
      }
    }
  }
  walk(dir)
  return hits
}

test(
  'a closed vote is archived to two holders and kept on a relay that cannot read it; opening takes both holders',
  { timeout: 480_000 },
  async (t) => {
    const net = await createTestnet(t, 3)
    const homeA = join(tmpHome(t, 'a'), 'h')
    const homeB = join(tmpHome(t, 'b'), 'h')
    const homeR = join(tmpHome(t, 'r'), 'h')
    t.is((await conclave(['--home', homeA, 'init', '--json'])).code, 0, 'init A')
    // A archives a conversation that had no message for 12 s even if it never closed
    const a = await startNode(t, homeA, {
      bootstrap: net.bootstrapFlag,
      env: { CONCLAVE_ARCHIVE_IDLE: '12' }
    })
    const jb = await inviteAndJoin(t, a, homeB, net.bootstrapFlag, ['--indexer'])
    const b = await startNode(t, homeB, { bootstrap: net.bootstrapFlag })
    const jr = await inviteAndJoin(t, a, homeR, net.bootstrapFlag, ['--role', 'relay'])
    // the relay joined with public keys only: its X-Wing secret (derivable from A's seed) is nowhere in its home
    const relaySecrets = JSON.parse(readFileSync(join(homeR, 'secrets.json'), 'utf8'))
    const relayXwing = deriveDevice(
      Buffer.from(JSON.parse(readFileSync(join(homeA, 'secrets.json'), 'utf8')).seed, 'hex'),
      jr.device
    ).xwing
    t.is(relaySecrets.device.xwingSecretKey, undefined, "the relay's secrets.json has no X-Wing secret key")
    t.is(relaySecrets.device.xwingPublicKey, hex(relayXwing.publicKey), 'only its public key')
    const r = await startNode(t, homeR, { bootstrap: net.bootstrapFlag, args: ['--role', 'relay'] })
    const idA = (await statusOf(a)).devices.find((d) => d.self)!.deviceId
    await eventually(
      'every device knows the three',
      async () => {
        for (const n of [a, b, r]) if ((await statusOf(n)).devices.length !== 3) return false
        return true
      },
      120_000
    )

    const convo = await closedVote(t, a, b, {
      topic: TOPIC,
      choice: CHOICE,
      other: OTHER,
      timeoutMs: 120_000
    })

    const [archived] = await eventually(
      'the closed vote is archived',
      async () => {
        const list = await archivesOf(a)
        return list.length > 0 && list
      },
      120_000
    )
    t.is(archived!.conversationId, convo, 'the archive is of the vote')
    t.alike(archived!.holders, [idA, jb.deviceId], 'sealed to A and B')
    t.absent(archived!.holders.includes(jr.deviceId), 'the relay is no holder')

    const listed = JSON.parse((await b.cli(['archive', 'list', '--json'])).stdout)
    t.alike(
      Object.keys(listed.archives[0]).filter((k) =>
        ['id', 'conversationId', 'holders', 'size', 'createdAt'].includes(k)
      ),
      ['id', 'conversationId', 'holders', 'size', 'createdAt'],
      'archive list --json gives id, conversationId, holders, size, createdAt'
    )
    await eventually(
      'the relay holds the whole archive',
      async () => {
        const [x] = await archivesOf(r)
        return x !== undefined && x.local === x.blocks && x
      },
      120_000
    )
    t.is(await show(r, convo), null, 'the relay never got the conversation')
    // ...but it keeps the conversation's writer cores blindly: A counts it as a holder of each
    const blindCopies = await eventually(
      "the relay holds the vote's writer cores",
      async () => {
        const cores = (await statusOf(a)).cores.filter((x) => x.name.startsWith(`conversation ${convo}:`))
        const written = cores.filter((x) => x.length > 0)
        const held = written.filter((x) => x.holders.some((h) => h.deviceId === jr.deviceId))
        return held.length > 0 && held.length === written.length && held
      },
      120_000
    )
    t.pass(`A sees the relay holding every written writer core of the vote (${blindCopies.length})`)
    const onR = (await statusOf(r)).cores.filter((x) => blindCopies.some((w) => w.key === x.key))
    t.ok(
      onR.length === blindCopies.length && onR.every((x) => x.local && /kept blindly/.test(x.name)),
      'the relay lists them as kept blindly, all blocks local'
    )

    // an idle discussion is archived too (a snapshot): only after its idle age
    const disc = await a.cli([
      'convo',
      'start',
      '--pattern',
      'discussion',
      '--topic',
      'Idle chat',
      '--method',
      'lazy-consensus',
      '--deadline',
      '1h',
      '--json'
    ])
    t.is(disc.code, 0, `discussion: ${disc.stderr}`)
    const discId = JSON.parse(disc.stdout).id as string
    const startedAt = Date.now()
    const idle = await eventually(
      'the idle discussion is archived',
      async () => (await archivesOf(a)).find((x) => x.conversationId === discId),
      120_000,
      500
    )
    t.ok(Date.now() - startedAt >= 11_000, 'not before its idle age')
    t.alike(idle.holders, [idA, jb.deviceId], 'sealed to A and B as well')

    // A opens it with B's help
    const out = join(tmpHome(t, 'out'), 'transcript.json')
    const opened = await a.cli(['archive', 'open', archived!.id, '--out', out])
    t.is(opened.code, 0, `archive open on A: ${opened.stderr}`)
    const transcript = JSON.parse(readFileSync(out, 'utf8'))
    t.is(transcript.conversation.topic, TOPIC, 'the transcript has the topic')
    t.alike(
      transcript.messages.map((m: { kind: string; body: { choice?: string } }) => [m.kind, m.body.choice]),
      [['ballot', CHOICE]],
      "and A's ballot"
    )
    t.alike(transcript.outcome.winners, [CHOICE], 'and the outcome')
    t.ok(transcript.conversation.members.length === 1, 'and the members')
    const json = JSON.parse((await b.cli(['archive', 'open', archived!.id, '--json'])).stdout)
    t.is(json.title.startsWith(TOPIC), true, 'B opens it too, with A, and reads the title')

    const onRelay = await r.cli(['archive', 'open', archived!.id])
    t.is(onRelay.code, 1, 'the relay cannot open it')
    t.ok(/^NODE_ARCHIVE_NOT_HOLDER:/m.test(onRelay.stderr), onRelay.stderr.trim())

    // nothing readable on the relay's disk
    await r.stop()
    const hits = scan(homeR, [TOPIC, 'zanzibar-lighthouse', CHOICE, OTHER])
    t.alike(hits, [], "the relay's files hold no plaintext of the topic, title or ballots")
    const keyHits = scan(homeR, [
      Buffer.from(relayXwing.secretKey),
      Buffer.from(hex(relayXwing.secretKey), 'utf8')
    ])
    t.alike(keyHits, [], "the relay's files hold no X-Wing secret key, raw or as hex")

    // with B offline, A cannot open it
    await b.stop()
    const alone = await a.cli(['archive', 'open', archived!.id, '--wait', '3'])
    t.is(alone.code, 1, 'A alone cannot open it')
    t.ok(/^NODE_ARCHIVE_HOLDER_OFFLINE:/m.test(alone.stderr), alone.stderr.trim())
    t.ok(alone.stderr.includes(jb.deviceId), 'and says which device it waits for')
    t.ok(
      /^opening: \[[#-]+\] \d+% .*, waiting for device 1 \(dev_[a-z0-9]+\) to peel its layer$/m.test(
        alone.stderr
      ),
      'while it waits, the progress line says for whom'
    )

    // B is back but revoked: A no longer peels for it
    const b2 = await startNode(t, homeB, { bootstrap: net.bootstrapFlag })
    const revoked = await a.cli(['revoke', String(jb.device)])
    t.is(revoked.code, 0, `A revokes B: ${revoked.stderr}`)
    const refused = await b2.cli(['archive', 'open', archived!.id, '--wait', '5', '--json'])
    t.is(refused.code, 1, 'the revoked B cannot open it')
    t.ok(/^NODE_ARCHIVE_(REFUSED|HOLDER_OFFLINE):/m.test(refused.stderr), refused.stderr.trim())
    t.absent(refused.stdout.includes(CHOICE), 'and gets nothing of it')
  }
)
