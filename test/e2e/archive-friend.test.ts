import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'brittle'
import { conclave, tmpHome } from '../helpers/cli.js'
import { archivesOf, show } from '../helpers/convo.js'
import { eventually, startNode, statusOf } from '../helpers/node-process.js'
import { createTestnet } from '../helpers/testnet.js'

test(
  "with one access device, a friend's device in the conversation holds the other key",
  { timeout: 300_000 },
  async (t) => {
    const net = await createTestnet(t, 3)
    const homeA = join(tmpHome(t, 'a'), 'h')
    const homeF = join(tmpHome(t, 'f'), 'h')
    t.is((await conclave(['--home', homeA, 'init', '--json'])).code, 0, 'init A')
    const f0 = JSON.parse((await conclave(['--home', homeF, 'init', '--json'])).stdout)
    const a = await startNode(t, homeA, { bootstrap: net.bootstrapFlag })
    const f = await startNode(t, homeF, { bootstrap: net.bootstrapFlag })
    const idA = (await statusOf(a)).devices.find((d) => d.self)!.deviceId
    const idF = (await statusOf(f)).devices.find((d) => d.self)!.deviceId
    const cardA = JSON.parse((await a.cli(['card', '--json'])).stdout).card
    const cardF = JSON.parse((await f.cli(['card', '--json'])).stdout).card
    t.is((await a.cli(['friend', 'add', cardF])).code, 0, 'A adds F')
    t.is((await f.cli(['friend', 'add', cardA])).code, 0, 'F adds A')

    const started = await a.cli([
      'convo',
      'start',
      '--pattern',
      'vote',
      '--topic',
      'Which trail on Sunday?',
      '--method',
      'majority',
      '--option',
      'ridge',
      '--option',
      'river',
      '--with',
      f0.accountId,
      '--json'
    ])
    t.is(started.code, 0, `convo start: ${started.stderr}`)
    const convo = JSON.parse(started.stdout).id as string
    await eventually('F opens the conversation', async () => (await show(f, convo)) !== null, 120_000)
    t.is((await a.cli(['vote', convo, 'ridge'])).code, 0, 'A votes')
    await eventually(
      'F becomes a writer and votes',
      async () => (await f.cli(['vote', convo, 'ridge'])).code === 0,
      120_000,
      1000
    )

    const archived = await eventually(
      "A archives the vote, sealed to itself and F's device",
      async () => (await archivesOf(a)).find((x) => x.conversationId === convo),
      120_000
    )
    t.alike(archived.holders, [idA, idF], "A and the friend's device hold it")

    const out = join(tmpHome(t, 'out'), 'transcript.json')
    const opened = await a.cli(['archive', 'open', archived.id, '--out', out])
    t.is(opened.code, 0, `A opens it with F's help: ${opened.stderr}`)
    const transcript = JSON.parse(readFileSync(out, 'utf8'))
    t.alike(
      transcript.messages.map((m: { body: { choice?: string } }) => m.body.choice),
      ['ridge', 'ridge'],
      'both ballots, verified'
    )
    t.alike(transcript.outcome.winners, ['ridge'], 'and the outcome')

    await f.stop()
    const alone = await a.cli(['archive', 'open', archived.id, '--wait', '3'])
    t.is(alone.code, 1, 'without F, A cannot open it')
    t.ok(
      /^NODE_ARCHIVE_HOLDER_OFFLINE: waiting for device 0 of friend acc_/m.test(alone.stderr),
      alone.stderr.trim()
    )
  }
)
