package dynamodb

import (
	"reflect"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Notebook attributes: lists of maps whose keys are the routes file's
// field names (lob, name, label, instanceTypes, ...), so that an item read
// in the console looks like the YAML an administrator already knows.
const (
	attrNotebooks = "NOTEBOOKS"
	attrTemplates = "NOTEBOOK_TEMPLATES"
)

// jsonTags encodes and decodes nested records by their JSON field names,
// honouring omitempty: DynamoDB Local and older tools refuse empty strings.
func jsonTags(o *attributevalue.EncoderOptions) { o.TagKey = "json" }

// putNested stores v (a slice) under attr, or nothing when it is empty.
func putNested(item map[string]types.AttributeValue, attr string, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.Len() == 0 {
		return nil
	}
	av, err := attributevalue.MarshalWithOptions(v, jsonTags)
	if err != nil {
		return err
	}
	item[attr] = av
	return nil
}

// nested decodes attr into out (a pointer to a slice), recording a problem
// when it is not a list of maps of the right shape.
func (r *reader) nested(attr string, out any) {
	av, ok := r.item[attr]
	if !ok {
		return
	}
	if _, isList := av.(*types.AttributeValueMemberL); !isList {
		r.fail(attr, "a list of maps (L of M)")
		return
	}
	if err := attributevalue.UnmarshalWithOptions(av, out, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" }); err != nil {
		r.fail(attr, "a list of maps (L of M) with the fields of a routes file")
	}
}
