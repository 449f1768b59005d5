import { rmSync } from 'node:fs'
import type { StatusReport } from '../../src/node/node-api.js'
import { join } from 'node:path'
import test from 'brittle'
import { conclave, tmpHome } from '../helpers/cli.js'
import { show, startConvo } from '../helpers/convo.js'
import { eventually, type NodeProcess, startNode, statusOf } from '../helpers/node-process.js'
import { inviteAndJoin, strangerCard } from '../helpers/pairing.js'
import { createTestnet } from '../helpers/testnet.js'

const sameView = async (nodes: NodeProcess[], extra: (s: StatusReport) => boolean = () => true) => {
  let last = ''
  try {
    return await eventually(
      'the same cluster view on every node',
      async () => {
        const all = await Promise.all(nodes.map(statusOf))
        last = JSON.stringify(
          all.map((s) => ({
            device: s.device,
            writable: s.writable,
            view: s.clusterView,
            peers: s.peers.length
          }))
        )
        const hash = all[0]!.clusterView.hash
        return all.every((s) => s.clusterView.hash === hash && extra(s)) && all
      },
      120_000
    )
  } catch (err) {
    throw new Error(`${(err as Error).message}; statuses: ${last}`)
  }
}

test(
  'a device whose home is deleted is recovered from the words: new epoch, all data back, same view',
  { timeout: 480_000 },
  async (t) => {
    const net = await createTestnet(t, 3)
    const homeA = join(tmpHome(t, 'a'), 'h')
    const homeB = join(tmpHome(t, 'b'), 'h')
    const homeC = join(tmpHome(t, 'c'), 'h')
    const init = JSON.parse((await conclave(['--home', homeA, 'init', '--json'])).stdout)
    let a = await startNode(t, homeA, { bootstrap: net.bootstrapFlag })
    // three indexers: the lost one's replacement is final with the other two
    await inviteAndJoin(t, a, homeB, net.bootstrapFlag, ['--indexer'])
    const b = await startNode(t, homeB, { bootstrap: net.bootstrapFlag })
    await inviteAndJoin(t, a, homeC, net.bootstrapFlag, ['--indexer'])
    const c = await startNode(t, homeC, { bootstrap: net.bootstrapFlag })

    // A writes: the certificates above, and a friend
    const friend = await strangerCard(t, 'friend-d')
    const added = await a.cli(['friend', 'add', friend.card, '--json'])
    t.is(added.code, 0, `friend add: ${added.stderr}`)
    // and a conversation (its list and key live in the home, which is lost)
    const convo = await startConvo(
      t,
      a,
      [
        '--pattern',
        'discussion',
        '--topic',
        'Where to next summer?',
        '--method',
        'lazy-consensus',
        '--deadline',
        '1h'
      ],
      friend.accountId
    )
    // a post is acknowledged once two nodes hold it: B or C must have opened the conversation
    await eventually(
      'B and C open the conversation',
      async () => {
        for (const n of [b, c]) if ((await show(n, convo)) === null) return false
        return true
      },
      120_000
    )
    const posted = await a.cli(['convo', 'post', convo, 'the lake again'])
    t.is(posted.code, 0, `A posts: ${posted.stderr}`)
    await eventually(
      "B and C hold the conversation with A's post",
      async () => {
        for (const n of [b, c]) if ((await show(n, convo))?.messages.length !== 1) return false
        return true
      },
      120_000
    )
    // final everywhere before the loss: an indexer counts only once the entry adding it is final,
    // and a set {A, C} with B still pending would need the lost A for every later entry
    const before = await sameView(
      [a, b, c],
      (s) =>
        s.devices.length === 3 &&
        s.devices.every((d) => d.online) &&
        s.clusterView.signedLength === s.clusterView.length
    )
    const hashBefore = before[0]!.clusterView.hash
    t.pass('A, B and C hold the same final view, with the friend A added')

    // A's disk is lost
    await a.stop()
    rmSync(homeA, { recursive: true, force: true })

    const rec = await conclave(['--home', homeA, 'recover', '--json'], { input: `${init.mnemonic}\n` })
    t.is(rec.code, 0, `recover: ${rec.stderr}`)
    t.is(JSON.parse(rec.stdout).accountId, init.accountId, 'the words give the same account')

    // every recovery step is bounded (NODE_RECOVERY_FAILED, not a hang); a failure names the last
    // step (or the summary, when the node's open after it stopped) on its first line, which is all
    // a retry summary keeps
    a = await startNode(t, homeA, {
      bootstrap: net.bootstrapFlag,
      readyTimeoutMs: 180_000,
      // info: the line saying the conversation was opened at the signed view an own device named
      env: { CONCLAVE_LOG_LEVEL: 'info' }
    }).catch((err: Error) => {
      const lines = err.message.split('\n')
      const last =
        lines
          .filter((l) => /^recovery: |^recovered device |^conclave node running|^[A-Z_]+: /.test(l))
          .pop() ?? '(no output)'
      throw new Error(`${lines[0]} last: ${last}\n${lines.slice(1).join('\n')}`)
    })
    const out = a.output()
    t.ok(/recovered device 0 \(dev_[^)]+\): writer epoch 0 → 1, \d+ cores/.test(out), 'a final summary')
    t.ok(/recovery: \[#*-*\] \d+% \d+\/\d+ cores/.test(out), 'a progress bar with cores and bytes')
    t.ok(/recovery: waiting for a final cluster view/.test(out), 'a line for each step, the last ones too')
    t.absent(/^warning: /m.test(out), 'three indexers: the view was final when recovery ended')

    const after = await sameView(
      [a, b, c],
      (s) => s.devices.every((d) => d.online) && s.clusterView.signedLength === s.clusterView.length
    )
    const sa = after[0]!
    t.is(sa.epoch, 1, 'A runs at writer epoch 1')
    t.is(sa.clusterView.hash, after[1]!.clusterView.hash, 'A has the same view hash as B')
    t.is(sa.clusterView.hash, after[2]!.clusterView.hash, 'and as C')
    t.is(sa.devices.find((d) => d.device === 0)?.epoch, 1, 'the cluster records epoch 1 for device 0')
    t.is(sa.devices.length, 3, 'the devices A certified before (epoch 0 entries) are still there')
    t.not(sa.clusterView.hash, hashBefore, 'the view moved on by the new certificate')
    const friends = JSON.parse((await a.cli(['friend', 'list', '--json'])).stdout)
    t.alike(
      friends.friends.map((f: { accountId: string }) => f.accountId),
      [friend.accountId],
      'the friend A had added is back'
    )
    t.ok(sa.writable, 'A is a writer again, through its new epoch, with a final view')

    // the conversation comes back from an own device, and A writes in it through a new writer
    const back = await eventually('A holds the conversation again', async () => show(a, convo), 120_000)
    t.is(back.messages.length, 1, "with A's post from before the loss")
    t.ok(
      new RegExp(`conversation opened at the signed view an own device named.*${convo}`).test(a.output()),
      'opened at the system core an own device named in its offer (a fast-forward, not a replay)'
    )
    await eventually(
      'A posts in the conversation after the recovery',
      async () => (await a.cli(['convo', 'post', convo, 'or the sea'])).code === 0,
      120_000,
      1000
    )
    await eventually(
      "B and C see A's new post",
      async () => {
        for (const n of [b, c]) if ((await show(n, convo))?.messages.length !== 2) return false
        return true
      },
      120_000
    )
    t.pass("A's post through its new conversation writer reached B and C")
    await eventually(
      'the same conversation view on A, B and C',
      async () => {
        const hashes = await Promise.all([a, b, c].map(async (n) => (await show(n, convo))?.viewHash))
        return hashes.every((h) => h && h === hashes[0])
      },
      120_000
    )
    t.pass('the conversation view hash is the same on A, B and C')

    // A writes through epoch 1: another friend, seen by B and C
    const friend2 = await strangerCard(t, 'friend-e')
    const added2 = await a.cli(['friend', 'add', friend2.card, '--json'])
    t.is(added2.code, 0, `friend add after recovery: ${added2.stderr}`)
    await sameView([a, b, c], (s) => s.clusterView.signedLength === s.clusterView.length)
    for (const n of [b, c]) {
      const list = JSON.parse((await n.cli(['friend', 'list', '--json'])).stdout)
      t.ok(
        list.friends.some((f: { accountId: string }) => f.accountId === friend2.accountId),
        "the recovered device's write reached another device"
      )
    }
  }
)

test(
  'recovery with the wrong words finds no cluster and creates nothing',
  { timeout: 120_000 },
  async (t) => {
    const net = await createTestnet(t, 3)
    const home = join(tmpHome(t, 'wrong'), 'h')
    // a valid mnemonic of an account nobody runs
    const words =
      'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art'
    t.is(
      (await conclave(['--home', home, 'recover'], { input: `${words}\n` })).code,
      0,
      'recover (offline) works'
    )
    const run = await conclave([
      '--home',
      home,
      'run',
      '--bootstrap',
      net.bootstrapFlag,
      '--recover-timeout',
      '6'
    ])
    t.is(run.code, 1, 'run gives up')
    t.ok(run.stderr.includes('NODE_RECOVERY_NO_CLUSTER:'), run.stderr.trim().split('\n').pop())
    t.ok(/check the recovery words and the passphrase/.test(run.stderr), 'and says what to check')
    const id = JSON.parse((await conclave(['--home', home, 'id', '--json'])).stdout)
    t.is(id.recovered, true, 'the home is still marked recovered')
    t.is(id.epoch, 0, 'no epoch was settled')
  }
)
