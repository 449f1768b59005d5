import { z } from 'zod'
import { hexSchema } from '../kernel/encoding.js'
import { IdentityFileSchema, SecretsFileSchema } from '../kernel/identity/home-store.js'

/** What a root-holding device hands a new device through the pairing channel. */
export const JoinPackageSchema = z
  .object({
    v: z.literal(1),
    identity: IdentityFileSchema,
    secrets: SecretsFileSchema,
    trustedSigningKeys: z.array(hexSchema(32)).max(4096)
  })
  .strict()
export type JoinPackage = z.infer<typeof JoinPackageSchema>
