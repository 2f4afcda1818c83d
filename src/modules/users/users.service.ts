import type { Kysely } from 'kysely';
import type { DB, UserRow } from '../../db/types.js';
import { AppError } from '../../shared/errors.js';
import { findUserById } from '../auth/auth.repository.js';

/** User administration; self-service reads live here too. */
export class UsersService {
  constructor(private readonly db: Kysely<DB>) {}

  async getSelf(userId: string): Promise<UserRow> {
    const user = await findUserById(this.db, userId);
    if (!user || user.status === 'deleted') throw new AppError('UNAUTHENTICATED', 401, 'Sign in to continue.');
    return user;
  }
}
