package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sagegate/sagegate/internal/routing"
)

func keyOf(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: pk}}
}

// getItem reads one item; nil without error when there is none.
func (s *Store) getItem(ctx context.Context, table, pk string, consistent bool) (map[string]types.AttributeValue, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	out, err := s.api.GetItem(ctx, &ddb.GetItemInput{
		TableName:      aws.String(table),
		Key:            keyOf(pk),
		ConsistentRead: aws.Bool(consistent),
	})
	if err != nil {
		return nil, s.wrap(err, "GetItem", table)
	}
	return out.Item, nil
}

// get returns the record called name, prepared, or ErrNotFound, or
// ErrInvalid naming its key and every problem.
func get[T any](ctx context.Context, s *Store, k *kind[T], name string) (T, error) {
	var zero T
	item, err := s.getItem(ctx, k.table, k.key(name), s.cfg.ConsistentRead)
	if err != nil {
		return zero, err
	}
	if item == nil {
		return zero, routing.NotFoundError(k.name, name)
	}
	v, _, errs := k.decode(item)
	if len(errs) > 0 {
		return zero, routing.InvalidError(k.name, name, errs...)
	}
	v, errs = k.prepare(v)
	if len(errs) > 0 {
		return zero, routing.InvalidError(k.name, name, errs...)
	}
	return v, nil
}

// create writes v unless its key is taken.
func create[T any](ctx context.Context, s *Store, k *kind[T], v T) error {
	name := k.nameOf(v)
	if _, errs := k.prepare(v); len(errs) > 0 {
		return routing.InvalidError(k.name, name, errs...)
	}
	item, err := k.encode(v, 1)
	if err != nil {
		return fmt.Errorf("%s %q: encoding: %w", k.name, name, err)
	}
	item[attrPK] = &types.AttributeValueMemberS{Value: k.key(name)}
	err = s.putItem(ctx, k.table, item, "attribute_not_exists(PK)", nil)
	if isConditionFailed(err) {
		return fmt.Errorf("%s %q: %w", k.name, name, routing.ErrAlreadyExists)
	}
	return err
}

// update is a read-modify-write conditioned on VERSION, retried while
// other writers win the race, up to Options.MaxAttempts.
func update[T any](ctx context.Context, s *Store, k *kind[T], name string, fn func(T) (T, error)) error {
	for range s.opts.MaxAttempts {
		// Strongly consistent: a stale read would only fail the condition.
		item, err := s.getItem(ctx, k.table, k.key(name), true)
		if err != nil {
			return err
		}
		if item == nil {
			return routing.NotFoundError(k.name, name)
		}
		raw, version, errs := k.decode(item)
		if len(errs) > 0 {
			// Attributes of the wrong type cannot be shown to fn; fix
			// them in the table.
			return routing.InvalidError(k.name, name, errs...)
		}
		cur, _ := k.prepare(raw)
		next, err := fn(cur)
		if err != nil {
			return err
		}
		if err := routing.CheckName(k.name, name, k.nameOf(next)); err != nil {
			return err
		}
		// Validated as it will be read back: a LOB whose account changed
		// gets the default role in its new account, not the old one.
		next = k.stored(next, raw)
		if _, errs := k.prepare(next); len(errs) > 0 {
			return routing.InvalidError(k.name, name, errs...)
		}
		enc, err := k.encode(next, version+1)
		if err != nil {
			return fmt.Errorf("%s %q: encoding: %w", k.name, name, err)
		}
		enc[attrPK] = &types.AttributeValueMemberS{Value: k.key(name)}
		cond, values := "attribute_exists(PK) AND attribute_not_exists(VERSION)", map[string]types.AttributeValue(nil)
		if _, had := item[attrVersion]; had {
			cond = "VERSION = :v"
			values = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}}
		}
		err = s.putItem(ctx, k.table, merge(item, enc, k.owned), cond, values)
		if !isConditionFailed(err) {
			return err
		}
		s.opts.Logger.DebugContext(ctx, "routing/dynamodb: concurrent update, retrying", "kind", k.name, "key", name)
	}
	return fmt.Errorf("%s %q: %w (gave up after %d attempts)", k.name, name, routing.ErrConflict, s.opts.MaxAttempts)
}

// remove deletes the record called name, or returns ErrNotFound.
func remove[T any](ctx context.Context, s *Store, k *kind[T], name string) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	_, err := s.api.DeleteItem(ctx, &ddb.DeleteItemInput{
		TableName:           aws.String(k.table),
		Key:                 keyOf(k.key(name)),
		ConditionExpression: aws.String("attribute_exists(PK)"),
	})
	if isConditionFailed(err) {
		return routing.NotFoundError(k.name, name)
	}
	if err != nil {
		return s.wrap(err, "DeleteItem", k.table)
	}
	return nil
}

// list scans one page. DynamoDB's Limit counts items read before the
// filter, so a page of a kind sharing its table may come back short, even
// empty, with more to follow.
func list[T any](ctx context.Context, s *Store, k *kind[T], o routing.ListOptions) (routing.Page[T], error) {
	var page routing.Page[T]
	in := &ddb.ScanInput{
		TableName:      aws.String(k.table),
		Limit:          aws.Int32(int32(min(o.PageSize(), 1000))),
		ConsistentRead: aws.Bool(s.cfg.ConsistentRead),
	}
	if k.filter != "" {
		in.FilterExpression = aws.String(k.filter)
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":kind": &types.AttributeValueMemberS{Value: k.filterValue}}
	}
	if o.Cursor != "" {
		after, err := routing.DecodeCursor(k.name, o.Cursor)
		if err != nil {
			return page, err
		}
		in.ExclusiveStartKey = keyOf(after)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	out, err := s.api.Scan(ctx, in)
	if err != nil {
		return page, s.wrap(err, "Scan", k.table)
	}
	page.Items = make([]T, 0, len(out.Items))
	for _, item := range out.Items {
		pk := ""
		if v, ok := item[attrPK].(*types.AttributeValueMemberS); ok {
			pk = v.Value
		}
		name := k.recordName(pk)
		v, _, errs := k.decode(item)
		if len(errs) == 0 {
			v, errs = k.prepare(v)
		}
		if len(errs) > 0 {
			page.Invalid = append(page.Invalid, routing.InvalidRecord{Kind: k.name, Key: name, Err: routing.InvalidError(k.name, name, errs...)})
			continue
		}
		page.Items = append(page.Items, v)
	}
	if lk, ok := out.LastEvaluatedKey[attrPK].(*types.AttributeValueMemberS); ok {
		page.Next = routing.EncodeCursor(k.name, lk.Value)
	}
	return page, nil
}

func (s *Store) putItem(ctx context.Context, table string, item map[string]types.AttributeValue, cond string, values map[string]types.AttributeValue) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	_, err := s.api.PutItem(ctx, &ddb.PutItemInput{
		TableName:                 aws.String(table),
		Item:                      item,
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: values,
	})
	if err != nil && !isConditionFailed(err) {
		return s.wrap(err, "PutItem", table)
	}
	return err
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// wrap names the table and what was being done; a missing table gets a
// sentence an operator can act on.
func (s *Store) wrap(err error, op, table string) error {
	var rnf *types.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return fmt.Errorf("routing/dynamodb: table %q does not exist in %s (check routing.dynamodb): %w", table, s.region, err)
	}
	return fmt.Errorf("routing/dynamodb: %s on %q: %w", op, table, err)
}
