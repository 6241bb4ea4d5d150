import { migration001Initial } from './001-initial';
import { migration002Projects } from './002-projects';
import { migration003BuilderAssessment } from './003-builder-assessment';
import { migration004DeliveryPerProject } from './004-delivery-per-project';
import { migration005SeRequests } from './005-se-requests';
import { migration006PublishedImages } from './006-published-images';
import type { Migration } from './migration';

/** Every migration in version order; append only. */
export const MIGRATIONS: readonly Migration[] = [
  migration001Initial,
  migration002Projects,
  migration003BuilderAssessment,
  migration004DeliveryPerProject,
  migration005SeRequests,
  migration006PublishedImages,
];
