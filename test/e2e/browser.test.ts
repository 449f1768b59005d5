import { join } from 'node:path'
import test from 'brittle'
import { chromium } from 'playwright-core'
import type { ArchiveSummary } from '../../src/node/node-api.js'
import { conclave, tmpHome } from '../helpers/cli.js'
import { closedVote, show } from '../helpers/convo.js'
import { eventually, startNode, statusOf } from '../helpers/node-process.js'
import { inviteAndJoin } from '../helpers/pairing.js'
import { createTestnet } from '../helpers/testnet.js'

const TOPIC = 'Which kite do we fly at the <b>osprey</b> meadow?'
const CHOICE = 'the-vermilion-box-kite'
const OTHER = 'the-teal-delta'
const CHROMIUM = '/usr/bin/chromium'

test(
  'in a browser: log in through the link, see the tally chart, open an archive with both devices and read the ballot',
  { timeout: 240_000 },
  async (t) => {
    const net = await createTestnet(t, 3)
    const homeA = join(tmpHome(t, 'a'), 'h')
    const homeB = join(tmpHome(t, 'b'), 'h')
    t.is((await conclave(['--home', homeA, 'init', '--json'])).code, 0, 'init A')
    const a = await startNode(t, homeA, { bootstrap: net.bootstrapFlag })
    const jb = await inviteAndJoin(t, a, homeB, net.bootstrapFlag, ['--indexer'])
    const b = await startNode(t, homeB, { bootstrap: net.bootstrapFlag })
    await eventually(
      'both devices know each other',
      async () => (await statusOf(a)).devices.length === 2 && (await statusOf(b)).devices.length === 2,
      60_000
    )
    const convo = await closedVote(t, a, b, { topic: TOPIC, choice: CHOICE, other: OTHER, timeoutMs: 60_000 })
    const archive = await eventually(
      'the closed vote is archived',
      async () =>
        (await a.api<{ archives: ArchiveSummary[] }>('GET', '/api/archives')).body.archives.find(
          (x) => x.conversationId === convo
        ),
      60_000
    )

    const login = /^open (http:\/\/127\.0\.0\.1:\d+\/login\?token=\S+)$/m.exec(a.output())?.[1]
    t.ok(login, 'conclave run printed the login link')
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox']
    })
    t.teardown(() => browser.close(), { order: -2 })
    const page = await browser.newPage({ viewport: { width: 400, height: 800 } })
    const refused: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') refused.push(m.text())
    })

    await page.goto(login!)
    t.ok(/^Account /.test(await page.locator('h1').innerText()), 'logged in: the devices page')
    // keyboard only: Tab to a link, Enter follows it, and the focus is drawn
    const tabTo = async (name: string): Promise<boolean> => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab')
        const focused = (await page.evaluate(
          '(() => { const el = document.activeElement; return el ? { text: (el.innerText || "").trim(), outline: getComputedStyle(el).outlineStyle } : null })()'
        )) as { text: string; outline: string } | null
        if (focused?.text === name) return focused.outline !== 'none'
      }
      throw new Error(`no focusable "${name}" within 40 Tab presses`)
    }
    t.ok(await tabTo('Conversations'), 'Tab reaches the Conversations link, with a visible focus ring')
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/conversations$/)
    t.ok(await tabTo(TOPIC), 'Tab reaches the conversation')
    await page.keyboard.press('Enter')
    await page.locator('h1', { hasText: TOPIC }).waitFor()
    t.is(await page.locator('h1').innerText(), TOPIC, 'the conversation page, its topic shown as text')
    const chart = page.locator('svg.chart')
    await chart.waitFor()
    t.is(await chart.locator('rect.bar').count(), 2, 'the tally chart has a bar per option')
    t.is(await chart.locator('desc').textContent(), `${CHOICE}: 1, ${OTHER}: 0`, 'with the counts')
    t.ok(
      await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'),
      'nothing overflows a 400 px wide window'
    )

    // an open conversation's page keeps itself up to date: B's post shows up without a reload
    const live = await a.cli([
      'convo',
      'start',
      '--pattern',
      'discussion',
      '--topic',
      'live page',
      '--method',
      'lazy-consensus',
      '--deadline',
      '1h',
      '--json'
    ])
    t.is(live.code, 0, live.stderr)
    const liveId = JSON.parse(live.stdout).id as string
    await eventually('B opens the discussion', async () => (await show(b, liveId)) !== null, 60_000)
    await page.getByRole('link', { name: 'Conversations' }).click()
    await page.getByRole('link', { name: 'live page' }).click()
    t.is(await page.locator('#live li').count(), 0, 'no message yet')
    const posted = await b.cli(['convo', 'post', liveId, 'a word from B, seen live'])
    t.is(posted.code, 0, posted.stderr)
    await page.locator('#live li', { hasText: 'a word from B, seen live' }).waitFor({ timeout: 20_000 })
    t.pass("B's message appeared on the open page by itself")

    await page.getByRole('link', { name: 'Archives' }).click()
    await page.locator(`a[href="/archives/${archive.id}"]`).click()
    await page.getByRole('button', { name: 'Open the archive' }).press('Enter')
    const transcript = page.locator('#transcript')
    await transcript.waitFor({ state: 'visible', timeout: 60_000 })
    t.ok((await page.locator('#t-title').innerText()).startsWith(TOPIC), 'the transcript: its title')
    t.is(await page.locator('#t-topic').innerText(), TOPIC, 'its topic')
    t.ok((await page.locator('#t-outcome').innerText()).startsWith(CHOICE), 'its outcome')
    // the messages come a page at a time from the node, which checks their signatures as it serves them
    await page.locator('#page', { hasText: /^1–\d+ of \d+$/ }).waitFor({ timeout: 10_000 })
    const ballot = (await page.locator('#messages li').allInnerTexts()).find((x) => x.startsWith('ballot'))
    t.is(
      ballot,
      `ballot by ${(await statusOf(a)).deviceId}: ${CHOICE}`,
      "A's ballot, read from the transcript"
    )
    const shown = Number(/of (\d+)$/.exec(await page.locator('#page').innerText())![1])
    t.is(
      await page.locator('#checked').innerText(),
      `${shown} of ${shown}`,
      'every message shown has had its signature checked'
    )
    await page.getByLabel('Search the messages').fill('no-such-words')
    await page.locator('#page', { hasText: 'No message matches.' }).waitFor({ timeout: 10_000 })
    t.is(await page.locator('#messages li').count(), 0, 'search: nothing matches')
    await page.getByLabel('Search the messages').fill(CHOICE.toUpperCase())
    await page.locator('#page', { hasText: /matching/ }).waitFor({ timeout: 10_000 })
    t.is(await page.locator('#messages li').count(), 1, 'search: the ballot matches')

    // with B gone the page waits for it, then says so in words
    await b.stop()
    await page.getByLabel('Wait for the other holder (seconds)').fill('4')
    await page.getByRole('button', { name: 'Open the archive' }).click()
    await page
      .locator('#state', { hasText: /Waiting for device 1 \(dev_[a-z0-9]+\) to peel its layer/ })
      .waitFor({ timeout: 10_000 })
    t.pass('while it waits, the page says for which device')
    const error = page.locator('#error')
    await error.waitFor({ state: 'visible', timeout: 30_000 })
    t.is(await page.locator('#error-code').innerText(), 'NODE_ARCHIVE_HOLDER_OFFLINE', 'the error by code')
    const text = await page.locator('#error-text').innerText()
    t.ok(text.includes('not connected') && text.includes(jb.deviceId), `readable: ${text}`)
    t.alike(
      refused.filter((m) => /Content Security Policy|Refused/i.test(m)),
      [],
      'the CSP refused nothing the pages need'
    )
  }
)
