import { z } from 'zod';

import type { TcbStatus } from './collateral.types';

const HEX = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`));
const DATE = z.iso.datetime();
const STATUS = z.enum([
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
] satisfies readonly TcbStatus[]);
const COMPONENTS = z.array(z.object({ svn: z.number().int().min(0).max(255) })).length(16);
const ISV_LEVEL = z.object({
  tcb: z.object({ isvsvn: z.number().int().min(0) }),
  tcbDate: DATE,
  tcbStatus: STATUS,
  advisoryIDs: z.array(z.string()).optional(),
});
const MODULE = { mrsigner: HEX(48), attributes: HEX(8), attributesMask: HEX(8) };

/** Schema of a TDX tcbInfo v3 (`"id": "TDX"`), the value signed inside PCS's `{"tcbInfo": ...}`. */
export const tdxTcbInfoSchema = z.object({
  id: z.literal('TDX'),
  version: z.literal(3),
  issueDate: DATE,
  nextUpdate: DATE,
  fmspc: HEX(6),
  pceId: HEX(2),
  tcbType: z.number().int(),
  tcbEvaluationDataNumber: z.number().int(),
  tdxModule: z.object(MODULE),
  tdxModuleIdentities: z.array(z.object({ id: z.string(), ...MODULE, tcbLevels: z.array(ISV_LEVEL) })).optional(),
  tcbLevels: z
    .array(
      z.object({
        tcb: z.object({ sgxtcbcomponents: COMPONENTS, pcesvn: z.number().int().min(0), tdxtcbcomponents: COMPONENTS }),
        tcbDate: DATE,
        tcbStatus: STATUS,
        advisoryIDs: z.array(z.string()).optional(),
      }),
    )
    .min(1),
});

/** Parsed TDX tcbInfo v3. */
export type TdxTcbInfo = z.infer<typeof tdxTcbInfoSchema>;

/** Schema of a TD QE identity v2 (`"id": "TD_QE"`). */
export const tdQeIdentitySchema = z.object({
  id: z.literal('TD_QE'),
  version: z.literal(2),
  issueDate: DATE,
  nextUpdate: DATE,
  tcbEvaluationDataNumber: z.number().int(),
  miscselect: HEX(4),
  miscselectMask: HEX(4),
  attributes: HEX(16),
  attributesMask: HEX(16),
  mrsigner: HEX(32),
  isvprodid: z.number().int().min(0).max(0xffff),
  tcbLevels: z.array(ISV_LEVEL).min(1),
});

/** Parsed TD QE identity v2. */
export type TdQeIdentity = z.infer<typeof tdQeIdentitySchema>;

/** Parses and validates the tcbInfo JSON string (semantics only; signatures cover the raw string). */
export function parseTdxTcbInfo(json: string): TdxTcbInfo {
  return parseJson(json, tdxTcbInfoSchema, 'tcbInfo');
}

/** Parses and validates the QE identity JSON string. */
export function parseTdQeIdentity(json: string): TdQeIdentity {
  return parseJson(json, tdQeIdentitySchema, 'QE identity');
}

function parseJson<T>(json: string, schema: z.ZodType<T>, what: string): T {
  if (typeof json !== 'string') throw new Error(`${what}: expected a JSON string`);
  const result = schema.safeParse(JSON.parse(json));
  if (!result.success) throw new Error(`${what}: ${z.prettifyError(result.error).replace(/\n/g, '; ')}`);
  return result.data;
}
