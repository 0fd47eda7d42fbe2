// Accounts and roles in Debian's Chromium (playwright-core) against a real in-process hub:
// the first-run setup, sign-in (and a wrong password), the admin adding accounts, a supervisor
// who cannot edit desired or run methods, a technician who cannot manage accounts but changes
// desired, a reload that stays signed in, and the audit log showing it all with before/after.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack, REPO_ROOT } from '../helpers/hub.js'
import { buildRenderer, CHROMIUM_ARGS, startUiHub, type UiHub } from './support.js'

const shots = join(REPO_ROOT, 'test-results', 'ui')
const suite = new CleanupStack()
let ctx: BrowserContext
let page: Page
let env: UiHub
const problems: string[] = []

beforeAll(async () => {
  const staticDir = buildRenderer(suite.defer)
  mkdirSync(shots, { recursive: true })
  env = await startUiHub(suite.defer, { staticDir, accounts: false })
  const userDataDir = mkdtempSync(join(tmpdir(), 'sitehub-chromium-'))
  suite.defer(() => { rmSync(userDataDir, { recursive: true, force: true }) })
  ctx = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, viewport: { width: 1366, height: 768 } })
  suite.defer(() => ctx.close())
  page = ctx.pages()[0] ?? await ctx.newPage()
  // Refused calls are expected in this test (that is the point); anything else is a problem.
  page.on('pageerror', e => { problems.push(e.message) })
}, 180_000)

afterAll(() => suite.run(), 60_000)

const shot = async (name: string): Promise<void> => { await page.screenshot({ path: join(shots, `${name}.png`) }) }

async function signInAs (name: string, password: string): Promise<void> {
  if (await page.locator('body[data-auth="signedIn"]').count() > 0) await page.getByTestId('sign-out').click()
  await page.getByTestId('signin-form').waitFor()
  await page.getByTestId('signin-name').fill(name)
  await page.getByTestId('signin-password').fill(password)
  await page.getByTestId('signin-submit').click()
  await page.locator('body[data-auth="signedIn"][data-ready="true"]').waitFor()
}

describe('accounts and roles in Chromium', () => {
  it('creates the first admin on first run, then adds a technician and a supervisor', async () => {
    await page.goto(env.ui.url)
    await page.locator('body[data-auth="setup"]').waitFor()
    await page.getByTestId('setup-name').fill('chief')
    await page.getByTestId('setup-password').fill('short')
    expect(await page.locator('.field-error').innerText()).toContain('at least 8')
    await page.getByTestId('setup-password').fill('chief password 1')
    await page.getByTestId('setup-password2').fill('chief password 1')
    await shot('setup')
    await page.getByTestId('setup-submit').click()
    await page.locator('body[data-auth="signedIn"][data-ready="true"]').waitFor()
    expect(await page.getByTestId('signed-in-user').innerText()).toBe('chief')
    expect(await page.getByTestId('signed-in-role').innerText()).toBe('Admin')

    await page.getByRole('link', { name: 'Accounts' }).click()
    for (const [name, role] of [['tina', 'technician'], ['sam', 'supervisor']] as const) {
      await page.getByTestId('new-account-name').fill(name)
      await page.getByTestId('new-account-role').selectOption(role)
      await page.getByTestId('new-account-password').fill(`${name} password 1`)
      await page.getByTestId('create-account').click()
      await page.getByTestId(`account-${name}`).waitFor()
    }
    expect(await page.getByTestId('account-sam').getByTestId('account-role').inputValue()).toBe('supervisor')
    await shot('accounts')
    await env.hub.hub.registry.create({ deviceId: 'press-9' })
  })

  it('refuses a wrong password in plain words, and signs in', async () => {
    await page.getByTestId('sign-out').click()
    await page.getByTestId('signin-form').waitFor()
    await page.getByTestId('signin-name').fill('tina')
    await page.getByTestId('signin-password').fill('not her password')
    await page.getByTestId('signin-submit').click()
    const err = page.getByTestId('error-note')
    await err.waitFor()
    expect(await err.innerText()).toContain('Wrong account name or password')
    expect(await err.getAttribute('data-code')).toBe('401202')
    await shot('sign-in')
  })

  it('lets a supervisor look but not edit desired, run methods or manage accounts', async () => {
    await signInAs('sam', 'sam password 1')
    expect(await page.getByTestId('signed-in-role').innerText()).toBe('Supervisor')
    expect(await page.getByRole('link', { name: 'Accounts' }).count()).toBe(0)
    expect(await page.getByRole('link', { name: 'Add a device' }).count()).toBe(0)
    await page.goto(`${env.ui.url}#/devices/press-9`)
    await page.getByTestId('twin').waitFor()
    expect(await page.getByTestId('patch-editor').count()).toBe(0)
    expect(await page.getByTestId('method-run').count()).toBe(0)
    const notes = await page.getByTestId('not-allowed').allInnerTexts()
    expect(notes.join('\n')).toMatch(/Running methods: needs a technician or admin account/)
    expect(notes.join('\n')).toMatch(/Changing the twin: needs a technician or admin account/)
    expect(await page.getByTestId('toggle-status').isDisabled()).toBe(true)
    expect(await page.getByTestId('device-delete').getAttribute('title')).toBe('Needs an admin account')
    await shot('role-supervisor-device')
    await page.goto(`${env.ui.url}#/accounts`)
    expect(await page.getByTestId('not-allowed').innerText()).toContain('Accounts are managed by admins')
    // An approval: the supervisor acknowledges a failed-method alert on the fleet overview.
    await env.client('admin').call('methods.invoke', { deviceId: 'press-9', methodName: 'reboot', connectTimeoutInSeconds: 0 })
    await page.goto(`${env.ui.url}#/`)
    await page.locator('[data-testid="alerts"] li[data-kind="methodFailed"]').first().getByTestId('alert-ack').click()
    await page.locator('[data-testid="alert-acked"]', { hasText: 'acknowledged by sam' }).waitFor()
    await shot('fleet-alert-acknowledged')
  })

  it('lets a technician change desired (and stay signed in across a reload) but not manage accounts', async () => {
    await signInAs('tina', 'tina password 1')
    expect(await page.getByRole('link', { name: 'Accounts' }).count()).toBe(0)
    // Provisioning: a technician exports devices but does not add them (the registry is the admin's)
    await page.getByRole('link', { name: 'Add a device' }).click()
    await page.locator('[data-testid="not-allowed"]', { hasText: 'Adding devices: needs an admin account' }).waitFor()
    expect(await page.getByTestId('new-device-id').count()).toBe(0)
    await page.getByTestId('export-csv').waitFor()
    await page.goto(`${env.ui.url}#/accounts`)
    await page.getByTestId('not-allowed').waitFor()
    await page.goto(`${env.ui.url}#/devices/press-9`)
    await page.reload()
    await page.locator('body[data-auth="signedIn"][data-ready="true"]').waitFor()
    expect(await page.getByTestId('signed-in-user').innerText()).toBe('tina')
    await page.getByTestId('patch-editor').fill('{"interval": 15}')
    await page.getByTestId('patch-save').click()
    await page.getByTestId('twin-desired').getByText('15').waitFor()
    expect(await page.getByTestId('device-delete').isDisabled()).toBe(true)
    // Acknowledging alerts is a supervisor's approval: disabled, with the reason.
    await page.getByTestId('method-name').fill('selfTest')
    await page.getByTestId('method-run').click()
    await page.goto(`${env.ui.url}#/`)
    const ack = page.locator('[data-testid="alerts"] li[data-acknowledged="false"]').first().getByTestId('alert-ack')
    await ack.waitFor()
    expect(await ack.isDisabled()).toBe(true)
    expect(await ack.getAttribute('title')).toBe('Needs a supervisor or admin account')
  })

  it('shows the audit log to the admin, with who/what/when and a before/after diff', async () => {
    await signInAs('chief', 'chief password 1')
    await page.getByRole('link', { name: 'Audit log' }).click()
    await page.getByTestId('audit-table').waitFor()
    const methods = await page.getByTestId('audit-row').evaluateAll(rows => rows.map(r => r.getAttribute('data-method')))
    expect(methods).toEqual(expect.arrayContaining(['auth.setup', 'accounts.create', 'auth.signIn', 'twins.patchDesired']))
    await page.getByTestId('audit-method').fill('twins.')
    await page.getByTestId('audit-apply').click()
    await page.locator('[data-testid="audit-total"]', { hasText: '1 entry' }).waitFor()
    await page.getByTestId('audit-row').first().click()
    const detail = page.getByTestId('audit-detail')
    expect(await detail.innerText()).toContain('tina (Technician)')
    const row = page.getByTestId('audit-diff').locator('tr[data-change="changed"], tr[data-change="added"]').filter({ hasText: 'desired.interval' })
    expect(await row.locator('td').allInnerTexts()).toEqual(['desired.interval', 'null', '15'])
    await shot('audit')
    // from a device page: its change history is the audit log filtered to it
    await page.goto(`${env.ui.url}#/devices/press-9`)
    await page.getByTestId('device-history').click()
    await page.locator('[data-testid="audit-row"][data-method="twins.patchDesired"]').waitFor()
    expect(await page.getByTestId('audit-device').inputValue()).toBe('press-9')
    expect(await page.getByTestId('audit-row').evaluateAll(rows => rows.every(r => r.textContent?.includes('press-9') === true))).toBe(true)
    // the failed sign-in is there too
    await page.getByTestId('audit-device').fill('')
    await page.getByTestId('audit-method').fill('auth.signIn')
    await page.getByTestId('audit-outcome').selectOption('error')
    await page.getByTestId('audit-apply').click()
    await page.locator('[data-testid="audit-row"]', { hasText: 'tina' }).first().waitFor()
    expect(problems).toEqual([])
  })

  it('fits a narrow touch screen: the screens fold behind a Menu button', async () => {
    await page.setViewportSize({ width: 800, height: 1000 })
    try {
      const menu = page.getByRole('button', { name: 'Menu' })
      await menu.waitFor()
      expect(await page.locator('#side-nav').isVisible()).toBe(false)
      await menu.click()
      await page.locator('#side-nav').getByRole('link', { name: 'Accounts' }).click()
      await page.getByTestId('accounts-table').waitFor()
      expect(await page.locator('#side-nav').isVisible()).toBe(false)
      await shot('nav-narrow')
    } finally {
      await page.setViewportSize({ width: 1366, height: 768 })
    }
  })
})
