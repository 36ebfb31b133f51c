import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MERCHANTS } from '../../src/operations/context';
import { ATTACHMENT_NAMESPACE } from '../../src/operations/workorders/attachments';
import { WorkOrderService } from '../../src/operations/workorders/service';
import type { FsArtifactStore } from '../../src/updates/artifacts/fs-store';
import { createTestApi, type TestApi, type TestResponse } from '../support/api';
import { BACKENDS } from '../support/db';

const PNG = Uint8Array.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82, 1, 2, 3,
]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0, 1, 9, 9]);
const WEBP = new TextEncoder().encode('RIFF\x10\x00\x00\x00WEBPVP8 rest');
const SVG = new TextEncoder().encode(
  '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
);
const HTML = new TextEncoder().encode('<!doctype html><script>alert(1)</script>');

describe.each(BACKENDS)('work-order attachments over HTTP on %s', (backend) => {
  let t: TestApi;
  const ops = () => t.fx.usersA.ops_engineer;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const workOrder = async (merchantId = t.fx.merchantA) =>
    (
      await new WorkOrderService(t.deps.operations.ctx).create(
        ALL_MERCHANTS,
        { userId: 'x' },
        { merchantId, title: 'wo' },
      )
    ).id;
  const upload = (
    id: string,
    body: NonNullable<RequestInit['body']>,
    headers: Record<string, string> = {},
    token = ops().token,
  ) =>
    t.app.request(
      `/api/v1/work-orders/${id}/attachments`,
      {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${token}`, ...headers },
        duplex: 'half',
      } as RequestInit,
      { incoming: { socket: { remoteAddress: '192.0.2.10' } } },
    ) as Promise<TestResponse>;
  const blobs = () => {
    const dir = join((t.deps.artifacts as FsArtifactStore).dir, ATTACHMENT_NAMESPACE);
    try {
      return readdirSync(dir).filter((n) => !n.startsWith('.'));
    } catch {
      return [];
    }
  };

  it('judges the type by the bytes: a PNG named .html is a PNG; SVG and HTML are refused whatever they claim', async () => {
    const id = await workOrder();
    const png = await upload(id, PNG, {
      'content-type': 'text/html',
      'x-file-name': encodeURIComponent('../évier.html'),
    });
    expect(png.status, await png.clone().text()).toBe(201);
    expect(await png.json()).toMatchObject({
      contentType: 'image/png',
      fileName: 'évier.png',
      size: PNG.length,
    });
    const webp = await upload(id, WEBP, { 'content-type': 'application/octet-stream' });
    expect(await webp.json()).toMatchObject({ contentType: 'image/webp', fileName: 'attachment.webp' });
    const before = blobs().length;
    for (const [bytes, type, name] of [
      [SVG, 'image/png', 'photo.png'],
      [SVG, 'image/svg+xml', 'photo.svg'],
      [HTML, 'application/pdf', 'manual.pdf'],
      [new TextEncoder().encode('%PD'), 'application/pdf', 'short.pdf'],
    ] as const) {
      const res = await upload(id, bytes, { 'content-type': type, 'x-file-name': name });
      expect(res.status).toBe(415);
      expect((await res.json()).code).toBe('ATTACHMENT_TYPE_UNSUPPORTED');
    }
    expect(blobs().length).toBe(before);
    const list = await t.request('GET', `/api/v1/work-orders/${id}/attachments`, {
      token: t.fx.usersA.viewer.token,
    });
    expect((await list.json()).items.map((a: { contentType: string }) => a.contentType)).toEqual([
      'image/png',
      'image/webp',
    ]);
  });

  it('takes a multipart form with the file in the part named "file"', async () => {
    const id = await workOrder();
    const form = new FormData();
    form.set('note', 'front panel');
    form.set('file', new Blob([JPEG], { type: 'text/plain' }), 'panel.jpeg');
    const res = await upload(id, form);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await res.json()).toMatchObject({
      contentType: 'image/jpeg',
      fileName: 'panel.jpg',
      size: JPEG.length,
    });
    const a = (
      await (await t.request('GET', `/api/v1/work-orders/${id}/attachments`, { token: ops().token })).json()
    ).items[0];
    const dl = await t.request('GET', `/api/v1/work-orders/${id}/attachments/${a.id}`, {
      token: ops().token,
    });
    expect(new Uint8Array(await dl.arrayBuffer())).toEqual(JPEG);
  });

  it('refuses an oversized file while it streams, before reading it all, and keeps nothing', async () => {
    const id = await workOrder();
    const limit = t.deps.attachmentLimits.maxBytes;
    const chunk = new Uint8Array(64 * 1024);
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = pulled === 0 ? Uint8Array.from([...PNG, ...chunk.subarray(PNG.length)]) : chunk;
        pulled += next.length;
        // Far more than the limit, and no content-length: only streaming can catch it.
        if (pulled > limit * 10) controller.close();
        else controller.enqueue(next);
      },
    });
    const before = blobs().length;
    const res = await upload(id, body, { 'content-type': 'application/octet-stream' });
    expect(res.status).toBe(413);
    expect((await res.json()).code).toBe('PAYLOAD_TOO_LARGE');
    expect(pulled).toBeLessThan(limit + 8 * chunk.length);
    expect(blobs().length).toBe(before);
    const declared = await upload(id, PNG, { 'content-length': String(limit * 2) });
    expect(declared.status).toBe(413);
  });

  it('downloads as an attachment with the judged type and nosniff, only for those who see the work order', async () => {
    const id = await workOrder();
    const a = await (await upload(id, PNG, { 'x-file-name': 'photo "1".png' })).json();
    const path = `/api/v1/work-orders/${id}/attachments/${a.id}`;
    const dl = await t.request('GET', path, { token: t.fx.usersA.finance.token });
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-type')).toBe('image/png');
    expect(dl.headers.get('x-content-type-options')).toBe('nosniff');
    expect(dl.headers.get('content-disposition')).toMatch(/^attachment; filename="photo 1.png"/);
    expect(new Uint8Array(await dl.arrayBuffer())).toEqual(PNG);
    for (const token of [t.fx.usersB.merchant_admin.token, t.fx.usersB.viewer.token]) {
      expect((await t.request('GET', path, { token })).status).toBe(404);
      expect((await t.request('GET', `/api/v1/work-orders/${id}/attachments`, { token })).status).toBe(404);
    }
    // Another work order's id with this attachment: not found either.
    const other = await workOrder();
    expect(
      (await t.request('GET', `/api/v1/work-orders/${other}/attachments/${a.id}`, { token: ops().token }))
        .status,
    ).toBe(404);
    expect((await upload(id, PNG, {}, t.fx.usersA.viewer.token)).status).toBe(403);
    expect((await upload(id, PNG, {}, t.fx.usersB.ops_engineer.token)).status).toBe(404);
    expect((await t.request('DELETE', path, { token: t.fx.usersA.viewer.token })).status).toBe(403);
  });

  it('deletes (audited); bytes shared with another order stay until the last one goes', async () => {
    const first = await workOrder();
    const second = await workOrder();
    const bytes = Uint8Array.from([...PNG, 42, 43, 44]);
    const a = await (await upload(first, bytes)).json();
    const b = await (await upload(second, bytes)).json();
    expect(b.sha256).toBe(a.sha256);
    const del = await t.request('DELETE', `/api/v1/work-orders/${first}/attachments/${a.id}`, {
      token: ops().token,
    });
    expect(del.status).toBe(200);
    expect(blobs()).toContain(a.sha256);
    await t.request('DELETE', `/api/v1/work-orders/${second}/attachments/${b.id}`, { token: ops().token });
    expect(blobs()).not.toContain(a.sha256);
    const audit = await t.deps.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', first)
      .execute();
    expect(audit.map((r) => r.action).sort()).toEqual([
      'workorder.attachment.delete',
      'workorder.attachment.upload',
    ]);
  });

  it('holds at most the configured number per work order, and none on a closed one', async () => {
    const id = await workOrder();
    for (let i = 0; i < t.deps.attachmentLimits.maxCount; i++) {
      expect((await upload(id, Uint8Array.from([...PNG, i]))).status).toBe(201);
    }
    const full = await upload(id, PNG);
    expect(full.status).toBe(409);
    expect((await full.json()).code).toBe('ATTACHMENT_LIMIT_REACHED');
    const ctx = t.deps.operations.ctx;
    await ctx.db
      .updateTable('work_orders')
      .set({ status: 'closed' })
      .where('id', '=', await workOrder())
      .execute();
    const closed = await ctx.db
      .selectFrom('work_orders')
      .select('id')
      .where('status', '=', 'closed')
      .executeTakeFirstOrThrow();
    expect((await upload(closed.id, PNG)).status).toBe(409);
  });
});
