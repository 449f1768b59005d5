import { startDemo } from '../demo.js'
import { type Command, parse, printJson, println } from '../cli.js'

export const demo: Command = {
  name: 'demo',
  summary: 'the whole story on this machine: three nodes, two accounts, a vote, its archive, the pages',
  usage: 'conclave demo [--json]',
  help: `Starts a loopback DHT testnet and three nodes in a temporary folder: Alice's laptop and
her home relay (one account), Bob's phone (another). They exchange cards, vote, the vote
closes and is archived (sealed to Alice's laptop and Bob's phone; the relay keeps a copy it
cannot read). Then it prints the login links of the pages and waits; Ctrl-C stops the
nodes and removes the folder. Nothing outside the folder is touched.
  --json   print { folder, alice, bob, relay, conversationId, archiveId } (links) once ready`,
  async run(ctx) {
    const { values } = parse(ctx.argv, { json: { type: 'boolean' } })
    const say = (line: string) => {
      if (!values.json) println(ctx, line)
    }
    const d = await startDemo({ onStep: say })
    if (values.json) {
      printJson(ctx, {
        folder: d.dir,
        alice: d.alice.api.loginUrl,
        bob: d.bob.api.loginUrl,
        relay: d.relay.api.loginUrl,
        conversationId: d.conversationId,
        archiveId: d.archiveId
      })
    } else {
      println(ctx)
      println(ctx, `open Alice's page: ${d.alice.api.loginUrl}`)
      println(ctx, `open Bob's page:   ${d.bob.api.loginUrl}`)
      println(ctx, `the relay's page:  ${d.relay.api.loginUrl}`)
      println(ctx, `try: conclave --home ${d.alice.home} archive open ${d.archiveId}`)
      println(ctx, 'ready; Ctrl-C stops the demo and removes its folder')
    }
    await new Promise<void>((resolve) => {
      let closing = false
      const stop = (signal: string) => {
        if (closing) return
        closing = true
        say(`${signal}: stopping the demo`)
        d.close().then(resolve, resolve)
      }
      process.once('SIGINT', () => stop('SIGINT'))
      process.once('SIGTERM', () => stop('SIGTERM'))
    })
    say('demo stopped; its folder is removed')
    return 0
  }
}
