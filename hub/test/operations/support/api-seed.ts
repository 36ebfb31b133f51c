import { randomBytes } from 'node:crypto';
import { CommandDelivery } from '../../../src/commands/delivery';
import { CommandService } from '../../../src/commands/service';
import { AlarmService } from '../../../src/operations/alarms/service';
import { ALL_MERCHANTS, type OpsContext } from '../../../src/operations/context';
import { BinService } from '../../../src/operations/materials/bins';
import { CatalogService } from '../../../src/operations/materials/catalog';
import { syncMaterialLevels } from '../../../src/operations/materials/levels-sync';
import { RecipeService } from '../../../src/operations/recipes/service';
import { RefundService } from '../../../src/operations/refunds/service';
import { ATTACHMENT_NAMESPACE, AttachmentService } from '../../../src/operations/workorders/attachments';
import { WorkOrderService } from '../../../src/operations/workorders/service';
import type { TestApi } from '../../support/api';
import { sampleMenu } from './recipes';

const uid = () => randomBytes(4).toString('hex');

/** The smallest file a work order takes: a PDF is recognised by its ASCII `%PDF-` header. */
export const TINY_PDF = '%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n';
const seeder = { userId: 'seeder' };

/** Operations rows for API tests, written through the services (all merchants in scope). */
export class ApiSeed {
  constructor(private readonly t: TestApi) {}

  get ctx(): OpsContext {
    return this.t.deps.operations.ctx;
  }

  async device(merchantId: string): Promise<{ id: string; locationId: string }> {
    const locationId = await this.t.addLocation(merchantId);
    const { id } = await this.t.addDevice(merchantId, { locationId });
    return { id, locationId };
  }

  /** An order of a fresh device with a captured card payment. */
  async sale(merchantId: string, amount = 350): Promise<{ deviceId: string; orderId: string }> {
    const { id: deviceId } = await this.device(merchantId);
    const orderId = `o-${uid()}`;
    const at = this.t.clock.now();
    const db = this.t.deps.db.kysely;
    await db
      .insertInto('orders')
      .values({
        device_id: deviceId,
        order_id: orderId,
        merchant_id: merchantId,
        status: 'completed',
        recipe_id: 'espresso',
        size: 'M',
        amount,
        currency: 'EUR',
        method: 'card',
        code: null,
        created_at: at,
        updated_at: at,
      })
      .execute();
    await db
      .insertInto('payments')
      .values({
        device_id: deviceId,
        payment_id: `p-${orderId}`,
        merchant_id: merchantId,
        order_id: orderId,
        status: 'captured',
        amount,
        currency: 'EUR',
        terminal_ref: null,
        created_at: at,
        updated_at: at,
      })
      .execute();
    return { deviceId, orderId };
  }

  async refund(merchantId: string): Promise<string> {
    const { deviceId, orderId } = await this.sale(merchantId);
    const r = await new RefundService(this.ctx).create(ALL_MERCHANTS, seeder, deviceId, orderId, {
      amount: 100,
      reason: 'seeded refund',
    });
    return r.refund.id;
  }

  async alarm(merchantId: string): Promise<{ id: string; deviceId: string }> {
    const { id: deviceId } = await this.device(merchantId);
    const { alarm } = await new AlarmService(this.ctx).raise({
      merchantId,
      deviceId,
      code: 'grinder_jam',
      severity: 'critical',
      source: 'device',
      at: this.t.clock.now(),
    });
    return { id: alarm.id, deviceId };
  }

  async workOrder(merchantId: string): Promise<string> {
    return (
      await new WorkOrderService(this.ctx).create(ALL_MERCHANTS, seeder, { merchantId, title: `wo ${uid()}` })
    ).id;
  }

  /** A fresh ops engineer of the merchant: someone a work order may be assigned to. */
  async assignee(merchantId: string): Promise<string> {
    return (await this.t.addUser('ops_engineer', merchantId)).id;
  }

  /** A work order with one PDF attachment, stored through the API's attachment store. */
  async attachment(merchantId: string): Promise<{ id: string; workOrderId: string }> {
    const workOrderId = await this.workOrder(merchantId);
    const svc = new AttachmentService(
      this.ctx,
      this.t.deps.artifacts.namespace(ATTACHMENT_NAMESPACE),
      this.t.deps.attachmentLimits,
    );
    const file = await svc.receive([new TextEncoder().encode(TINY_PDF)]);
    const a = await svc.record(ALL_MERCHANTS, seeder, workOrderId, 'manual.pdf', file);
    return { id: a.id, workOrderId };
  }

  async command(
    merchantId: string,
    fail = false,
  ): Promise<{ id: string; batchId: string; deviceId: string }> {
    const { id: deviceId } = await this.device(merchantId);
    const { batch, commands } = await new CommandService(this.ctx).create(ALL_MERCHANTS, seeder, {
      kind: 'rinse',
      target: { deviceIds: [deviceId] },
    });
    const id = commands[0]?.id ?? '';
    if (fail) {
      await new CommandDelivery(this.ctx).applyResult(deviceId, {
        commandId: id,
        status: 'failed',
        at: this.t.clock.now(),
      });
    }
    return { id, batchId: batch.id, deviceId };
  }

  async recipeSet(merchantId: string): Promise<string> {
    const ops = this.t.deps.operations;
    return (
      await new RecipeService(ops.ctx, ops.signingKey).create(ALL_MERCHANTS, seeder, {
        merchantId,
        ...sampleMenu(),
      })
    ).id;
  }

  async catalogItem(merchantId: string): Promise<{ id: string; sku: string }> {
    const sku = `SKU-${uid()}`;
    const [r] = await new CatalogService(this.ctx).upsertMany(merchantId, [
      { sku, name: 'Beans', material: 'beans', unit: 'g', packSize: 1000 },
    ]);
    return { id: r?.after.id ?? '', sku };
  }

  /** A device whose beans bin a machine reported low: a low bin and an open beans_low alarm. */
  async lowBin(merchantId: string, level = 100): Promise<string> {
    const { id: deviceId } = await this.device(merchantId);
    await new BinService(this.ctx).configure(ALL_MERCHANTS, deviceId, 'beans', {
      capacity: 2000,
      lowThreshold: 300,
      highThreshold: 1800,
    });
    await this.t.deps.db.kysely
      .insertInto('material_levels')
      .values({
        device_id: deviceId,
        material: 'beans',
        merchant_id: merchantId,
        level,
        capacity: 2000,
        unit: 'g',
        at: this.t.clock.now() + 1,
      })
      .execute();
    await syncMaterialLevels(this.ctx);
    return deviceId;
  }

  async restock(merchantId: string): Promise<string> {
    const deviceId = await this.lowBin(merchantId);
    const r = await new BinService(this.ctx).restock(ALL_MERCHANTS, seeder, deviceId, 'beans', {});
    return r.restock.id;
  }

  async auditMarker(merchantId: string): Promise<string> {
    const targetId = `marker-${uid()}`;
    await this.t.deps.audit.record(this.t.deps.db.kysely, {
      actor: null,
      ip: null,
      action: 'test.marker',
      targetType: 'test',
      targetId,
      merchantId,
    });
    return targetId;
  }
}
