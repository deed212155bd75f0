import { z } from 'zod';

export const clusterSchema = z.object({ distinct_id: z.string(), members: z.array(z.string()) });
